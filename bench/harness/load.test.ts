import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runClosedLoop } from "./closed-loop.js";
import { runOpenLoop } from "./open-loop.js";

describe("runClosedLoop", () => {
  it("keeps exactly `concurrency` calls in flight and stops at maxCalls", async () => {
    let inFlight = 0;
    let peak = 0;
    const r = await runClosedLoop(
      async () => {
        peak = Math.max(peak, ++inFlight);
        await sleep(1);
        inFlight--;
      },
      { concurrency: 8, maxCalls: 200 },
    );
    expect(r.ok).toBe(200);
    expect(peak).toBe(8);
    expect(r.latenciesUs.length).toBe(200);
    // Microseconds: sleep(1) takes about 1,000 µs. The median, not the first call: a timer set late
    // in a long event-loop turn (the first, while the test starts) fires early by what the turn
    // had used (Node measures from the turn's cached start time); one CI run saw 333 µs.
    const median = [...r.latenciesUs].sort((a, b) => a - b)[100]!;
    expect(median).toBeGreaterThan(500);
    expect(median).toBeLessThan(100_000);
  });

  it("tallies errors by class and honours the duration bound", async () => {
    const r = await runClosedLoop(
      async (_w, seq) => {
        await sleep(2);
        if (seq % 2) throw new RangeError("odd");
      },
      { concurrency: 2, durationMs: 100 },
    );
    expect(r.errors["RangeError"]).toBeGreaterThan(0);
    expect(r.ok).toBeGreaterThan(0);
    expect(r.elapsedMs).toBeLessThan(400);
  });

  it("refuses an unbounded loop", async () => {
    await expect(runClosedLoop(async () => {}, { concurrency: 1 })).rejects.toThrow(/durationMs or maxCalls/);
  });
});

describe("runOpenLoop", () => {
  it("offers the asked rate regardless of latency and accounts for every call", async () => {
    const r = await runOpenLoop(
      async (seq) => {
        await sleep(20);
        if (seq % 10 === 0) throw new Error("boom");
      },
      { ratePerSec: 500, durationMs: 400, drainTimeoutMs: 2000 },
    );
    expect(r.offered).toBeGreaterThan(150);
    expect(r.offered).toBeLessThan(260);
    expect(r.ok + (r.errors["Error"] ?? 0) + r.outstanding).toBe(r.offered);
    expect(r.outstanding).toBe(0);
  });

  it("counts calls that never answer as lost after the drain timeout", async () => {
    const r = await runOpenLoop(() => new Promise(() => {}), {
      ratePerSec: 100,
      durationMs: 100,
      drainTimeoutMs: 50,
    });
    expect(r.offered).toBeGreaterThan(0);
    expect(r.outstanding).toBe(r.offered);
    expect(r.ok).toBe(0);
  });
});
