import type { NatsConnection } from "nats";
import { encode, handleMetricsSubject, type HandleMetrics } from "@tsserve/protocol";
import { METRICS_PERIOD_MS } from "./options.js";
import type { DeploymentRouter } from "./routing-loop.js";

/**
 * Publishes HandleMetrics on `hmetrics.<app>.<deployment>` (the autoscaler's input) about once a
 * second for every deployment with queued or in-flight requests, and once more when it drops to
 * zero so the controller sees the load end. One unref'd timer per client, whatever the number of
 * deployments or requests.
 */
export class HandleMetricsPublisher {
  private readonly timer: NodeJS.Timeout;
  private readonly active = new WeakSet<DeploymentRouter>();
  private readonly subjects = new WeakMap<DeploymentRouter, string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly handleId: string,
    private readonly routers: () => Iterable<DeploymentRouter>,
    periodMs = METRICS_PERIOD_MS,
  ) {
    this.timer = setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  /** Publishes one round now (the timer calls it; tests may too). */
  tick(): void {
    if (this.nc.isClosed()) return;
    for (const router of this.routers()) {
      const busy = router.queued > 0 || router.inFlightTotal > 0;
      if (!busy && !this.active.has(router)) continue;
      if (busy) this.active.add(router);
      else this.active.delete(router);
      let subject = this.subjects.get(router);
      if (subject === undefined) {
        subject = handleMetricsSubject(this.prefix, router.app, router.deployment);
        this.subjects.set(router, subject);
      }
      const m: HandleMetrics = {
        handleId: this.handleId,
        app: router.app,
        deployment: router.deployment,
        queued: router.queued,
        inFlight: router.inFlightTotal,
        at: Date.now(),
      };
      try {
        this.nc.publish(subject, encode(m));
      } catch {
        // Connection closing: metrics are best effort.
      }
    }
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.timer);
  }
}
