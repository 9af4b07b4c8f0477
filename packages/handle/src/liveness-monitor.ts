import { LIVENESS_CHECK_INTERVAL_MS } from "./options.js";
import type { DeploymentRouter } from "./routing-loop.js";

/**
 * Keeps a request from hanging when its replica dies mid-request (docs/design.md §4, item 8). About once a
 * second, every replica with a request in flight for longer than the interval gets a probe; NATS
 * no-responders (the dead process's subscription vanished) fails its in-flight requests with
 * ReplicaDiedError. One unref'd timer per client: a healthy request costs nothing extra.
 */
export class LivenessMonitor {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly routers: () => Iterable<DeploymentRouter>,
    private readonly intervalMs = LIVENESS_CHECK_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** One sweep over every deployment (the timer calls it). */
  tick(): void {
    for (const router of this.routers()) router.checkLiveness(this.intervalMs, this.intervalMs);
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.timer);
  }
}
