import { describe, expect, it } from "vitest";
import type { Row } from "../harness/suite.js";
import { overheadTargets } from "./overhead.js";

const row = (mode: string, reqPerSec: number, extra: Partial<Row> = {}): Row => ({
  replicas: 2,
  concurrency: 64,
  mode,
  reqPerSec,
  clientUs: 10,
  tputVsRaw: 1,
  tputVsFloor: 0.8,
  cpuVsRaw: 1,
  cpuVsFloor: 1.3,
  spreadPct: 2,
  ...extra,
});

describe("overheadTargets", () => {
  it("checks the c=64, 2-replica cell against raw request() and ConsistentHash against PowerOfTwo", () => {
    const t = overheadTargets(
      [
        row("handle PowerOfTwo", 1000, { tputVsRaw: 0.9, cpuVsRaw: 1.1 }),
        row("handle ConsistentHash", 960, { tputVsRaw: 0.86, cpuVsRaw: 1.25 }),
        row("handle ConsistentHash", 1, { concurrency: 16 }),
      ],
      5,
    );
    expect(t.map((x) => x.met)).toEqual([true, true, true, false, true]);
    expect(t[3]!.note).toMatch(/client/);
    expect(t[4]!.measured).toBe("0.96");
  });

  it("calls a ConsistentHash shortfall noise only when it is within two standard errors", () => {
    const quiet = overheadTargets([row("handle PowerOfTwo", 1000), row("handle ConsistentHash", 880)], 5);
    expect(quiet[4]!.met).toBe(false);
    expect(quiet[4]!.note).not.toMatch(/standard error/);
    const noisy = overheadTargets(
      [
        row("handle PowerOfTwo", 1000, { spreadPct: 20 }),
        row("handle ConsistentHash", 880, { spreadPct: 20 }),
      ],
      5,
    );
    expect(noisy[4]!.note).toMatch(/within twice the standard error/);
  });

  it("returns no targets when the cell was not measured (e.g. a custom matrix)", () => {
    expect(overheadTargets([row("handle PowerOfTwo", 1, { replicas: 4 })], 5)).toEqual([]);
  });
});
