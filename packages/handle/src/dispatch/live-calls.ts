import type { PendingRequest } from "../pending-request.js";

/**
 * Every call of a deployment from submit to its end, in a dense array: add and delete are O(1)
 * (delete moves the last call into the freed place; each call knows its place, `liveAt`).
 *
 * Not a Set, on purpose. A long-lived Set or Map churned once per call makes V8 promote every
 * value out of the young generation: each rehash leaves the old hash table pointing at the new
 * one, and an old table in old space, garbage or not, keeps the new table and every call in it
 * alive through the next scavenge, which promotes them, and so on down the chain until a full
 * GC. Measured in the overhead profile (64 callers, after another mode had run): 812 promoted
 * bytes per call and twice the scavenge time, against 31 once nothing churned a Set or Map. An
 * array slot is cleared when its call leaves, so nothing dead points at a young call.
 */
export class LiveCalls {
  private readonly calls: PendingRequest[] = [];

  get size(): number {
    return this.calls.length;
  }

  add(req: PendingRequest): void {
    if (req.liveAt >= 0) return;
    req.liveAt = this.calls.length;
    this.calls.push(req);
  }

  /** Removes `req`; a no-op when it is not here. */
  delete(req: PendingRequest): void {
    const i = req.liveAt;
    if (i < 0 || this.calls[i] !== req) return;
    const last = this.calls.pop()!;
    if (last !== req) {
      this.calls[i] = last;
      last.liveAt = i;
    }
    req.liveAt = -1;
  }

  /** The calls oldest first (a copy: finishing or requeueing them while walking it is safe). */
  oldestFirst(): PendingRequest[] {
    return this.calls.slice().sort((a, b) => a.arrival - b.arrival);
  }

  /** The calls in no particular order (do not add or delete while iterating). */
  [Symbol.iterator](): IterableIterator<PendingRequest> {
    return this.calls.values();
  }
}
