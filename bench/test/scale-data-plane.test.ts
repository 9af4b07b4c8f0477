// The scale suites' quick modes run against real processes and produce well-formed points: every
// row has the suite's columns, numbers where numbers belong, no errors, and the curve's x values.
import { describe, expect, it } from "vitest";
import { quick, wellFormed, xs } from "./scale-checks.js";
import { scaleCallersSuite } from "../suites/scale-callers.js";
import { scaleSessionsSuite } from "../suites/scale-sessions.js";

describe("scale suites (data plane), quick mode", () => {
  it("scale-callers: every mode at 64 and 4,096 callers, with req/s and client CPU against its own 64", async () => {
    const r = await quick(scaleCallersSuite);
    wellFormed(r, ["reqPerSec", "clientCpuUs", "tputVsFirst", "clientCpuVsFirst", "errors"]);
    expect(xs(r.rows, "callers")).toEqual([64, 4096]);
    expect(r.rows).toHaveLength(10);
    for (const row of r.rows) expect(row["errors"]).toBe(0);
    for (const row of r.rows.filter((x) => x["callers"] === 64)) expect(row["tputVsFirst"]).toBe(1);
    expect(r.targets.map((t) => t.name)).toHaveLength(4); // CH uniform and Zipf × req/s and CPU at 4,096
    // Judged side by side with their 64-caller twins: the raw dispatcher and both ConsistentHash rows.
    const twinned = r.rows.filter((x) => x["callers"] === 4096 && x["tputVsFirstPaired"] !== null);
    expect(twinned.map((x) => String(x["mode"]).split(",")[0])).toEqual([
      "dispatcher capped (FIFO",
      "ConsistentHash",
      "ConsistentHash",
    ]);
    for (const t of r.targets) expect(t.measured).toMatch(/side by side/);
  }, 60_000);

  it("scale-sessions: heap after GC at 1k, 10k, 50k distinct sessions, bounded", async () => {
    const r = await quick(scaleSessionsSuite);
    wellFormed(r, ["heapMb", "reqPerSec", "errors"]);
    expect(xs(r.rows, "sessions")).toEqual([1000, 10_000, 50_000]);
    for (const row of r.rows) expect(row["errors"]).toBe(0);
    expect(r.targets).toHaveLength(1);
    expect(r.targets[0]!.met).toBe(true);
  }, 60_000);
});
