import type { NatsConnection } from "nats";
import { encode, handleMetricsSubject, type HandleMetrics } from "@tsserve/protocol/internal";
import { METRICS_PERIOD_MS } from "./options.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";

/**
 * Publishes HandleMetrics on `hmetrics.<app>.<deployment>` (the autoscaler's input) about once a
 * second for every deployment with queued or in-flight requests, and once more when it drops to
 * zero so the controller sees the load end. One unref'd timer per client, whatever the number of
 * deployments or requests.
 */
export class HandleMetricsPublisher {
  private readonly timer: NodeJS.Timeout;
  private readonly active = new WeakSet<DeploymentDispatcher>();
  private readonly subjects = new WeakMap<DeploymentDispatcher, string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly handleId: string,
    private readonly dispatchers: () => Iterable<DeploymentDispatcher>,
    periodMs = METRICS_PERIOD_MS,
  ) {
    this.timer = setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  /** Publishes one round now (the timer calls it; tests may too). */
  tick(): void {
    if (this.nc.isClosed()) return;
    for (const d of this.dispatchers()) {
      const busy = d.queued > 0 || d.inFlightTotal > 0;
      if (!busy && !this.active.has(d)) continue;
      if (busy) this.active.add(d);
      else this.active.delete(d);
      let subject = this.subjects.get(d);
      if (subject === undefined) {
        subject = handleMetricsSubject(this.prefix, d.app, d.deployment);
        this.subjects.set(d, subject);
      }
      const m: HandleMetrics = {
        handleId: this.handleId,
        app: d.app,
        deployment: d.deployment,
        queued: d.queued,
        inFlight: d.inFlightTotal,
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
