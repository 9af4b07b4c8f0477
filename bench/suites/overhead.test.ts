import { describe, expect, it } from "vitest";
import type { Row } from "../harness/suite.js";
import { overheadTargets } from "./overhead-targets.js";

const defaultsRow = (mode: string, extra: Partial<Row> = {}): Row => ({
  replicas: 2,
  concurrency: 64,
  mode,
  reqPerSec: 1000,
  tputVsCapped: 1,
  p99VsCapped: 1,
  maxVsCapped: 1,
  cpuVsCapped: 1,
  rejectionsPerCall: 0,
  ...extra,
});
const tunedRow = (mode: string, extra: Partial<Row> = {}): Row => ({
  replicas: 2,
  concurrency: 64,
  mode,
  tputVsLimit: 1,
  cpuVsLimit: 1,
  ...extra,
});

describe("overheadTargets", () => {
  it("checks the defaults cell against the capped dispatcher and the tuned cell against the uncapped one", () => {
    const t = overheadTargets(
      [
        defaultsRow("handle PowerOfTwo", { p99VsCapped: 1.5 }),
        defaultsRow("handle ConsistentHash (sessions)", { reqPerSec: 940, rejectionsPerCall: 0.02 }),
        defaultsRow("handle ConsistentHash (sessions)", { concurrency: 16, reqPerSec: 1 }),
      ],
      [tunedRow("handle PowerOfTwo"), tunedRow("handle ConsistentHash", { cpuVsLimit: 1.25 })],
    );
    const byName = new Map(t.map((x) => [x.name, x]));
    expect(t).toHaveLength(15);
    expect(byName.get("PowerOfTwo, defaults, 2 replicas, 64 callers, ÷ dispatcher capped: p99")!.met).toBe(
      false,
    );
    expect(
      byName.get(
        "PowerOfTwo, defaults, 2 replicas, 64 callers, ÷ dispatcher capped: req/s (median of paired slices)",
      )!.met,
    ).toBe(true);
    expect(byName.get("ConsistentHash, defaults: rejections per call (one handle, overload)")!.met).toBe(
      false,
    );
    const chp = byName.get("ConsistentHash (sessions) ÷ PowerOfTwo req/s, defaults")!;
    expect(chp.measured).toBe("0.94");
    expect(chp.met).toBe(false);
    expect(
      byName.get(
        "ConsistentHash, maxOngoingRequests 1024, 2 replicas, c=64, ÷ dispatcher uncapped: CPU per call",
      )!.met,
    ).toBe(false);
    for (const x of t) if (!x.met) expect(x.note).toBeTruthy();
  });

  it("judges req/s on the median of paired slices and prints the pooled ratio beside it", () => {
    const t = overheadTargets(
      [
        defaultsRow("handle PowerOfTwo", { tputVsCapped: 0.97, tputVsCappedPaired: 0.93 }),
        defaultsRow("handle ConsistentHash (sessions)", { tputVsCapped: 0.9, tputVsCappedPaired: 0.96 }),
      ],
      [tunedRow("handle PowerOfTwo", { tputVsLimit: 0.86, tputVsLimitPaired: 0.91 })],
    );
    const reqs = t.filter((x) => x.name.includes("req/s (median of paired slices)"));
    expect(reqs.map((x) => [x.measured, x.met])).toEqual([
      ["0.93 (pooled 0.97)", false],
      ["0.96 (pooled 0.90)", true],
      ["0.91 (pooled 0.86)", true],
    ]);
  });

  it("returns no targets when the cells were not measured (e.g. a custom matrix)", () => {
    expect(overheadTargets([defaultsRow("handle PowerOfTwo", { replicas: 4 })], [])).toEqual([]);
  });
});
