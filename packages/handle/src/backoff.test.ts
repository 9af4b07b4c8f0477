import { describe, expect, it } from "vitest";
import { backoffDelayMs, probeDeadlineMs } from "./backoff.js";

describe("backoffDelayMs", () => {
  it("sleeps 25, 50, 100, 200, 400, then 500 ms for ever", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((i) => backoffDelayMs(i))).toEqual([
      25, 50, 100, 200, 400, 500, 500, 500,
    ]);
  });

  it("stays at the cap for huge attempts", () => {
    expect(backoffDelayMs(2048)).toBe(500);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER)).toBe(500);
  });
});

describe("probeDeadlineMs", () => {
  it("doubles from 100 ms per backoff round up to 1 s", () => {
    expect([0, 1, 2, 3, 4, 5].map((i) => probeDeadlineMs(i))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("does not overflow at index 0, 10 and 2048", () => {
    expect(probeDeadlineMs(0)).toBe(100);
    expect(probeDeadlineMs(10)).toBe(1000);
    expect(probeDeadlineMs(2048)).toBe(1000);
    expect(Number.isFinite(probeDeadlineMs(1e9))).toBe(true);
  });

  it("uses the initial deadline when the cap is below it", () => {
    expect(probeDeadlineMs(0, 500, 100)).toBe(500);
    expect(probeDeadlineMs(7, 500, 100)).toBe(500);
  });
});
