/** The links a request carries so that it can sit in a {@link WaitQueue} without allocation. */
export interface Queued<T> {
  /** Previous (older) entry, or null at the head. @internal */
  qPrev: T | null;
  /** Next (younger) entry, or null at the tail. @internal */
  qNext: T | null;
  /** True while the entry is in a queue. @internal */
  qIn: boolean;
  /** Arrival time: the queue is ordered by it. */
  readonly createdAt: number;
}

/**
 * A FIFO of waiting requests, oldest first, intrusive (the links live on the entries), so push,
 * shift and removal from the middle (a cancelled call leaving its place) are O(1) and allocate
 * nothing. Entries that come back (a replica rejected them) are put back in arrival order, so a
 * request never loses its place to a younger one.
 */
export class WaitQueue<T extends Queued<T>> {
  private first: T | null = null;
  private last: T | null = null;
  private count = 0;

  /** `onSize` hears every change of the size (metrics); it must be cheap and must not throw. */
  constructor(private readonly onSize?: (size: number) => void) {}

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The oldest entry, or null. */
  get head(): T | null {
    return this.first;
  }

  /** Appends a new (youngest) entry. */
  push(e: T): void {
    if (e.qIn) return;
    e.qIn = true;
    e.qPrev = this.last;
    e.qNext = null;
    if (this.last === null) this.first = e;
    else this.last.qNext = e;
    this.last = e;
    this.count++;
    this.onSize?.(this.count);
  }

  /**
   * Puts `e` back in arrival order (by `createdAt`, after entries of the same time). Walks from the
   * tail: a returning entry is usually older than most, but the walk is rare (rejections only).
   */
  insertByAge(e: T): void {
    if (e.qIn) return;
    let after = this.last;
    while (after !== null && after.createdAt > e.createdAt) after = after.qPrev;
    e.qIn = true;
    e.qPrev = after;
    e.qNext = after === null ? this.first : after.qNext;
    if (e.qNext === null) this.last = e;
    else e.qNext.qPrev = e;
    if (after === null) this.first = e;
    else after.qNext = e;
    this.count++;
    this.onSize?.(this.count);
  }

  /** Removes `e` wherever it is; a no-op when it is not queued. */
  remove(e: T): void {
    if (!e.qIn) return;
    if (e.qPrev === null) this.first = e.qNext;
    else e.qPrev.qNext = e.qNext;
    if (e.qNext === null) this.last = e.qPrev;
    else e.qNext.qPrev = e.qPrev;
    e.qPrev = e.qNext = null;
    e.qIn = false;
    this.count--;
    this.onSize?.(this.count);
  }

  /** Entries oldest first (a snapshot: removing entries while iterating is safe). */
  toArray(): T[] {
    const out: T[] = [];
    for (let e = this.first; e !== null; e = e.qNext) out.push(e);
    return out;
  }
}
