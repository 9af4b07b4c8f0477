import { describe, expect, it } from "vitest";
import { measureInterleaved, pairedRatio, type ModeMeasurement } from "./interleaved-runs.js";

function mode(slices: number[]): ModeMeasurement {
  const p = { p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    mode: "m",
    ok: 0,
    errors: {},
    elapsedMs: 0,
    throughput: 0,
    latencyUs: p,
    cpuSeconds: {},
    cpuUsPerCall: null,
    sliceCv: 0,
    sliceThroughputs: slices,
  };
}

describe("pairedRatio", () => {
  it("is the median of same-round ratios, so one loaded round does not move it", () => {
    // Round 2 ran under a burst of load that hit only b's slice: the totals say 1.25, the rounds 1.0.
    const a = mode([100, 200, 100, 100, 100]);
    const b = mode([100, 50, 100, 100, 100]);
    expect(pairedRatio(a, b)).toBe(1);
    expect(pairedRatio(mode([90, 95]), mode([100, 100]))).toBeCloseTo(0.925, 6);
    expect(pairedRatio(mode([]), mode([]))).toBeNaN();
  });
});

describe("measureInterleaved", () => {
  it("runs a mode with its own callers when it names them, the others with the run's", async () => {
    const peaks = [0, 0];
    const open = [0, 0];
    const counted = (i: number) => async (): Promise<void> => {
      peaks[i] = Math.max(peaks[i]!, ++open[i]!);
      await new Promise((r) => setTimeout(r, 1));
      open[i]!--;
    };
    const ms = await measureInterleaved(
      [
        { name: "run's callers", call: counted(0) },
        { name: "own callers", call: counted(1), concurrency: 7 },
      ],
      { concurrency: 3, rounds: 2, sliceMs: 60, warmupMs: 20, cpuGroups: { client: [process.pid] } },
    );
    expect(peaks).toEqual([3, 7]);
    expect(ms.map((m) => m.sliceThroughputs.length)).toEqual([2, 2]);
    for (const m of ms) expect(m.ok).toBeGreaterThan(0);
  });
});
