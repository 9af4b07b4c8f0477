import { describe, expect, it } from "vitest";
import type { Row } from "../harness/suite.js";
import { scaleCallersTargets } from "./scale-callers-targets.js";

const row = (callers: number, mode: string, cells: Partial<Row>): Row => ({
  callers,
  mode,
  tputVsFirst: 1,
  clientCpuVsFirst: 1,
  tputVsFirstPaired: null,
  clientCpuVsFirstPaired: null,
  ...cells,
});

describe("scaleCallersTargets", () => {
  it("judges a ConsistentHash point on its side-by-side ratios when it has them, else on the curve's", () => {
    const checks = scaleCallersTargets([
      row(4096, "dispatcher capped (FIFO, 5/replica)", { tputVsFirst: 0.5 }),
      row(4096, "ConsistentHash, uniform sessions", {
        tputVsFirst: 0.8,
        clientCpuVsFirst: 1.4,
        tputVsFirstPaired: 0.93,
        clientCpuVsFirstPaired: 1.2,
      }),
      row(4096, "ConsistentHash, Zipf(1.1) sessions", { tputVsFirst: 0.89, clientCpuVsFirst: 1.25 }),
    ]);
    expect(checks.map((c) => [c.measured, c.met])).toEqual([
      ["0.93 (side by side; curve 0.80)", true],
      ["1.200 (side by side; curve 1.400)", true],
      ["0.89 (curve)", false],
      ["1.250 (curve)", true],
    ]);
    expect(checks[2]!.note).toMatch(/raw dispatcher/);
  });
});
