import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LogRateLimiter } from "./log-rate-limiter.js";

describe("LogRateLimiter", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("lets 10 lines through per second and reports the held-back count once, at the window's end", () => {
    const reports: number[] = [];
    const limiter = new LogRateLimiter({ onSuppressed: (n) => reports.push(n) });
    const allowed = Array.from({ length: 25 }, () => limiter.allow()).filter(Boolean).length;
    expect(allowed).toBe(10);
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(999);
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(reports).toEqual([15]);
    // A quiet second: nothing more to report.
    vi.advanceTimersByTime(5000);
    expect(reports).toEqual([15]);
  });

  it("opens a whole new budget in the next window, reporting the last one's count first", () => {
    const events: string[] = [];
    let t = 0;
    const limiter = new LogRateLimiter({
      linesPerWindow: 2,
      windowMs: 100,
      now: () => t,
      onSuppressed: (n, windowMs) => events.push(`suppressed ${n} in ${windowMs}`),
    });
    const take = (): void => void events.push(limiter.allow() ? "line" : "held");
    take();
    take();
    take();
    t = 100; // the timer has not fired yet (fake timers): the next line flushes the count itself
    take();
    expect(events).toEqual(["line", "line", "held", "suppressed 1 in 100", "line"]);
    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(5);
  });

  it("flush() reports what is held back at once, and only once", () => {
    const reports: number[] = [];
    const limiter = new LogRateLimiter({ linesPerWindow: 1, onSuppressed: (n) => reports.push(n) });
    limiter.allow();
    limiter.allow();
    limiter.allow();
    limiter.flush();
    limiter.flush();
    vi.advanceTimersByTime(2000);
    expect(reports).toEqual([2]);
  });
});
