/** What a {@link ReplySlotTable} holds: an open exchange numbered by the transport's counter. */
export interface Numbered {
  /** The exchange's number: its reply subject is `<inbox>.<seq>`. */
  readonly seq: number;
}

const INITIAL = 64;

/**
 * The open exchanges of a transport by number, for the reply callback's lookup: a ring of 2^k
 * places indexed by `seq` modulo its size, and a Map for the rare exchange whose place a
 * long-lived one (a stream, a call waiting on a slow replica) still holds. The ring doubles when
 * it is half full.
 *
 * Not one Map keyed by reply subject, as before: a Map churned once per call makes V8 promote
 * every call (see LiveCalls for why), while a ring place is cleared when its exchange closes, so
 * nothing dead points at a young one. Numbers, not subjects, also spare a string key per call.
 */
export class ReplySlotTable<S extends Numbered> {
  private ring: (S | null)[] = new Array<S | null>(INITIAL).fill(null);
  private mask = INITIAL - 1;
  private readonly overflow = new Map<number, S>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(slot: S): void {
    if (this.count >= this.ring.length >> 1) this.grow();
    this.place(slot);
    this.count++;
  }

  get(seq: number): S | undefined {
    const s = this.ring[seq & this.mask];
    if (s !== null && s !== undefined && s.seq === seq) return s;
    return this.overflow.size === 0 ? undefined : this.overflow.get(seq);
  }

  /** Removes `slot`; a no-op when it is not here. */
  delete(slot: S): void {
    const i = slot.seq & this.mask;
    if (this.ring[i] === slot) this.ring[i] = null;
    else if (!this.overflow.delete(slot.seq)) return;
    this.count--;
  }

  /** Every open exchange (a copy). */
  values(): S[] {
    const out: S[] = [];
    for (const s of this.ring) if (s !== null) out.push(s);
    for (const s of this.overflow.values()) out.push(s);
    return out;
  }

  clear(): void {
    this.ring.fill(null);
    this.overflow.clear();
    this.count = 0;
  }

  private place(slot: S): void {
    const i = slot.seq & this.mask;
    if (this.ring[i] === null) this.ring[i] = slot;
    else this.overflow.set(slot.seq, slot);
  }

  private grow(): void {
    const all = this.values();
    this.ring = new Array<S | null>(this.ring.length * 2).fill(null);
    this.mask = this.ring.length - 1;
    this.overflow.clear();
    for (const s of all) this.place(s);
  }
}

/**
 * The number at the end of a reply subject `<inbox>.<seq>` (from `start`, just after the dot), or
 * -1 when the rest is not a canonical decimal number (digits only, no leading zero).
 */
export function seqOf(subject: string, start: number): number {
  const n = subject.length;
  if (n <= start || n - start > 15) return -1;
  if (n - start > 1 && subject.charCodeAt(start) === 48) return -1;
  let v = 0;
  for (let i = start; i < n; i++) {
    const d = subject.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
