import type { ReplicaInfo } from "@tsserve/protocol";
import { QueueLengthCache } from "../queue-length-cache.js";

/**
 * What one handle believes about each replica's load: the queue length the replica last reported
 * (a {@link QueueLengthCache}, stale after 10 s) and the requests this handle has in flight there.
 *
 * The belief is never below this handle's own in-flight count: a reply says how many requests the
 * replica held when it was written, but requests this handle sent since may still be on the wire,
 * and counting them is what keeps one handle from ever sending a replica more than its free slots.
 */
export class ReplicaLoad {
  readonly cache: QueueLengthCache;
  private readonly inFlightBy = new Map<string, number>();
  private total = 0;
  /**
   * The last {@link bestFree} met a member with no fresh queue length: only then is there
   * something to probe (a group of known replicas, the usual case, costs no second pass).
   */
  sawUnknown = false;

  constructor(private readonly now: () => number) {
    this.cache = new QueueLengthCache(undefined, now);
  }

  /** Requests this handle has in flight, over every replica. */
  get inFlightTotal(): number {
    return this.total;
  }

  /** Requests this handle has in flight on `replicaId`. */
  inFlight(replicaId: string): number {
    return this.inFlightBy.get(replicaId) ?? 0;
  }

  /** The believed queue length, or undefined when unknown or stale. */
  queueLen(replicaId: string): number | undefined {
    return this.cache.get(replicaId);
  }

  /** A replica reported `queueLen` (reply or probe); `this` handle's in-flight count is its floor. */
  learn(replicaId: string, queueLen: number): number {
    const q = Math.max(queueLen, this.inFlight(replicaId));
    this.cache.set(replicaId, q);
    return q;
  }

  /** A request was sent to `replicaId` at `now` (the dispatcher's clock, read once per send). */
  sent(replicaId: string, now: number): void {
    this.total++;
    this.inFlightBy.set(replicaId, (this.inFlightBy.get(replicaId) ?? 0) + 1);
    this.cache.increment(replicaId, now);
  }

  /** A request sent to `replicaId` is answered or abandoned; `guess` lowers the cached count too. */
  released(replicaId: string, guess: boolean): void {
    this.total--;
    // A replica's count stays at 0 rather than leaving the map: a set and delete per call would
    // churn the map's table (see LiveCalls); prune() drops the replicas that left.
    this.inFlightBy.set(replicaId, Math.max(0, this.inFlight(replicaId) - 1));
    if (guess) this.cache.decrement(replicaId);
  }

  /** Free slots believed on `replicaId` (0 when unknown). */
  free(replicaId: string, max: number): number {
    const q = this.cache.get(replicaId);
    return q === undefined || q >= max ? 0 : max - q;
  }

  /**
   * The member of `group` with the most believed free slots (ties: list order), among those
   * `routable` accepts; null when none has one. Sets {@link sawUnknown}.
   */
  bestFree(group: readonly ReplicaInfo[], max: number, routable: (id: string) => boolean): string | null {
    let best: string | null = null;
    let bestQ = max;
    let unknown = false;
    const now = this.now();
    for (let i = 0; i < group.length; i++) {
      const id = group[i]!.replicaId;
      const q = this.cache.getAt(id, now);
      if (q === undefined) unknown = true;
      else if (q < bestQ && routable(id)) {
        best = id;
        bestQ = q;
      }
    }
    this.sawUnknown = unknown;
    return best;
  }

  /** Forgets what is known of a replica's queue (it is gone). */
  forget(replicaId: string): void {
    this.cache.invalidate(replicaId);
  }

  /** Keeps cache entries of `active` replicas only. */
  prune(active: ReadonlySet<string>): void {
    this.cache.prune(active);
    for (const [id, n] of this.inFlightBy) if (n === 0 && !active.has(id)) this.inFlightBy.delete(id);
  }
}
