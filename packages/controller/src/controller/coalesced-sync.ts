/**
 * Runs a per-key sync at most once per `windowMs`: the first request runs at once, later ones
 * within the window fold into one trailing run. The controller uses it for membership broadcasts:
 * READY → routable stays in milliseconds, while a 1,000-replica scale-up sends tens of snapshots
 * rather than 2,000 (it sent 2,001 of up to 42 KB each before).
 */
export class CoalescedSync {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly lastRunAt = new Map<string, number>();

  /** `sync(key)` returns whether it published anything (only then does the window start). */
  constructor(
    private readonly windowMs: number,
    private readonly sync: (key: string) => boolean,
  ) {}

  /** Something changed for `key`: sync now, or once at the end of the current window. */
  request(key: string): void {
    if (this.pending.has(key)) return;
    const wait = (this.lastRunAt.get(key) ?? 0) + this.windowMs - Date.now();
    if (wait <= 0) {
      this.runNow(key);
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.runNow(key);
    }, wait);
    timer.unref();
    this.pending.set(key, timer);
  }

  /** Syncs `key` right away (a caller needs the result now). */
  runNow(key: string): void {
    if (this.sync(key)) this.lastRunAt.set(key, Date.now());
  }

  /** Drops every trailing run (stopping, or leadership lost). */
  cancelAll(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
