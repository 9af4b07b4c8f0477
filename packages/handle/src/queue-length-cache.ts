import { QUEUE_LEN_CACHE_TTL_MS } from "./options.js";

interface Entry {
  queueLen: number;
  at: number;
}

/**
 * What this handle last learned about each replica's queue length (Ray's ReplicaQueueLengthCache).
 *
 * Written by every reply and probe answer, +1 when this handle sends, −1 when one of its requests
 * ends without a reply that carries a fresh count (timeout, cancellation). An entry older than the
 * TTL reads as unknown, so a replica that nobody has heard from is probed rather than trusted.
 * Entries are mutated in place: the hot path allocates only for a replica's first entry.
 */
export class QueueLengthCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = QUEUE_LEN_CACHE_TTL_MS,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The cached queue length, or undefined if unknown or stale. */
  get(replicaId: string): number | undefined {
    return this.getAt(replicaId, this.now());
  }

  /** {@link get} at a clock reading the caller already has (one read for a whole group). */
  getAt(replicaId: string, now: number): number | undefined {
    const e = this.entries.get(replicaId);
    if (e === undefined || now - e.at > this.ttlMs) return undefined;
    return e.queueLen;
  }

  /** Records a queue length a replica reported (at `at`, a reading of this cache's clock). */
  set(replicaId: string, queueLen: number, at: number = this.now()): void {
    const e = this.entries.get(replicaId);
    if (e === undefined) this.entries.set(replicaId, { queueLen, at });
    else {
      e.queueLen = queueLen;
      e.at = at;
    }
  }

  /** A request was sent: one more ongoing, if the entry is known (an unknown one stays unknown). */
  increment(replicaId: string, now: number = this.now()): void {
    // One lookup and no clock read of its own (this runs on every send).
    const e = this.entries.get(replicaId);
    if (e === undefined) return;
    if (now - e.at > this.ttlMs) return;
    e.queueLen++;
    e.at = now;
  }

  /**
   * A request ended without a fresh count: one fewer, floored at 0. A stale entry is left alone:
   * decrementing a guess would make it look fresh.
   */
  decrement(replicaId: string): void {
    const e = this.entries.get(replicaId);
    if (e === undefined) return;
    const now = this.now();
    if (now - e.at > this.ttlMs) return;
    e.queueLen = Math.max(0, e.queueLen - 1);
    e.at = now;
  }

  /** Forgets one replica (it died, or its probe failed). */
  invalidate(replicaId: string): void {
    this.entries.delete(replicaId);
  }

  /** Keeps only the entries of `active` replicas (called on every membership change). */
  prune(active: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!active.has(id)) this.entries.delete(id);
  }

  /** Number of entries held, fresh or stale (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
