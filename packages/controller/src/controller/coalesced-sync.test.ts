import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CoalescedSync } from "./coalesced-sync.js";

describe("CoalescedSync", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs the first change at once and folds a burst into one trailing run", () => {
    const runs: string[] = [];
    const s = new CoalescedSync(25, (k) => (runs.push(k), true));
    s.request("a");
    expect(runs).toEqual(["a"]);
    for (let i = 0; i < 1000; i++) s.request("a");
    expect(runs).toEqual(["a"]);
    vi.advanceTimersByTime(25);
    expect(runs).toEqual(["a", "a"]);
    vi.advanceTimersByTime(100);
    expect(runs).toEqual(["a", "a"]);
  });

  it("keeps keys independent, and starts no window when nothing was published", () => {
    const runs: string[] = [];
    const s = new CoalescedSync(25, (k) => (runs.push(k), k !== "quiet"));
    s.request("a");
    s.request("b");
    s.request("quiet");
    s.request("quiet");
    expect(runs).toEqual(["a", "b", "quiet", "quiet"]);
  });

  it("cancels trailing runs", () => {
    const runs: string[] = [];
    const s = new CoalescedSync(25, (k) => (runs.push(k), true));
    s.request("a");
    s.request("a");
    s.cancelAll();
    vi.advanceTimersByTime(100);
    expect(runs).toEqual(["a"]);
  });
});
