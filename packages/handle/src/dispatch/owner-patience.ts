import { RequestState, type PendingRequest } from "../pending-request.js";

/**
 * Ends owner patience on time. A request whose first group is full waits there until its `spillAt`;
 * then its later groups may take it. Requests arrive in spillAt order (arrival + a per-router
 * patience), so one FIFO and one unref'd timer serve them all; entries that left meanwhile (sent,
 * cancelled) are skipped when they reach the front.
 */
export class OwnerPatience {
  private readonly entries: (PendingRequest | null)[] = [];
  private start = 0;
  /** Position of `entries[0]` among every entry ever added (a request keeps its own). */
  private base = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly now: () => number,
    /** Called for each request whose patience ended while it was still waiting. */
    private readonly expired: (req: PendingRequest) => void,
  ) {}

  /** Watches `req` (its `spillAt` is set). */
  add(req: PendingRequest): void {
    req.patienceAt = this.base + this.entries.length;
    this.entries.push(req);
    this.arm(req.spillAt);
  }

  /**
   * `req` is done: its entry lets go of it now rather than when its patience would have ended
   * (ConsistentHash's 100 ms held every finished call that had waited, and its response).
   */
  forget(req: PendingRequest): void {
    const i = req.patienceAt - this.base;
    if (i >= this.start && i < this.entries.length && this.entries[i] === req) this.entries[i] = null;
    req.patienceAt = -1;
  }

  /** Stops the timer and forgets every entry. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.entries.length = 0;
    this.start = 0;
    this.base = 0;
  }

  private arm(at: number): void {
    if (at >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    // Timers fire up to a millisecond early or late; ending a patience 1 ms early is harmless.
    const now = this.now() + 1;
    while (this.start < this.entries.length) {
      const req = this.entries[this.start] ?? null;
      if (req === null || req.state === RequestState.DONE || req.patienceOver) {
        this.start++;
        continue;
      }
      if (req.spillAt > now) break;
      this.start++;
      req.patienceOver = true;
      if (req.state === RequestState.WAITING) this.expired(req);
    }
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries.splice(0, this.start);
      this.base += this.start;
      this.start = 0;
    }
    // The front entry is live here: the loop skipped every freed or finished one before it.
    const next = this.entries[this.start];
    if (next !== undefined && next !== null) this.arm(next.spillAt);
  }
}
