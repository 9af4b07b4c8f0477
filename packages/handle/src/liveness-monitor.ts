import { LIVENESS_CHECK_INTERVAL_MS } from "./options.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";

/**
 * Keeps a request from hanging when its replica dies mid-request (docs/design.md §4, item 8). About once a
 * second, every replica with a request of this client in flight for longer than the interval gets
 * a probe; NATS no-responders (the dead process's subscription vanished) fails its in-flight
 * requests with ReplicaDiedError. One unref'd timer per client: a healthy request costs nothing.
 * The probe is the dispatcher's own (one per replica at a time), so its answer also refreshes the
 * queue length the dispatcher routes on.
 */
export class LivenessMonitor {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dispatchers: () => Iterable<DeploymentDispatcher>,
    private readonly intervalMs = LIVENESS_CHECK_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** One sweep over every deployment (the timer calls it; tests may too). */
  tick(): void {
    for (const d of this.dispatchers()) sweepLiveness(d, this.intervalMs, this.intervalMs);
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * One liveness sweep of one deployment: probes every replica with a call in flight for at least
 * `minAgeMs` (deadline `deadlineMs`); the dispatcher fails the calls of a replica found gone.
 */
export function sweepLiveness(d: DeploymentDispatcher, minAgeMs: number, deadlineMs: number): void {
  const suspects = d.busyReplicas(minAgeMs);
  if (suspects === null) return;
  for (const id of suspects) void d.probe(id, deadlineMs);
}
