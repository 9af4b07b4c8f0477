import { RequestState, type PendingRequest } from "../pending-request.js";

/**
 * Ends owner patience on time. A request whose first group is full waits there until its `spillAt`;
 * then its later groups may take it. Requests arrive in spillAt order (arrival + a per-router
 * patience), so one FIFO and one unref'd timer serve them all; entries that left meanwhile (sent,
 * cancelled) are skipped when they reach the front.
 */
export class OwnerPatience {
  private readonly entries: PendingRequest[] = [];
  private start = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly now: () => number,
    /** Called for each request whose patience ended while it was still waiting. */
    private readonly expired: (req: PendingRequest) => void,
  ) {}

  /** Watches `req` (its `spillAt` is set). */
  add(req: PendingRequest): void {
    this.entries.push(req);
    this.arm(req.spillAt);
  }

  /** Stops the timer and forgets every entry. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.entries.length = 0;
    this.start = 0;
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
      const req = this.entries[this.start]!;
      if (req.state === RequestState.DONE || req.patienceOver) {
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
      this.start = 0;
    }
    const next = this.entries[this.start];
    if (next !== undefined) this.arm(next.spillAt);
  }
}
