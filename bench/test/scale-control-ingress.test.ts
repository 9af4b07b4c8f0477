// The scale suites' quick modes run against real processes and produce well-formed points: every
// row has the suite's columns, numbers where numbers belong, no errors, and the curve's x values.
import { describe, expect, it } from "vitest";
import { quick, wellFormed, xs } from "./scale-checks.js";
import { scaleMembershipSuite } from "../suites/scale-membership.js";
import { scaleProxiesSuite } from "../suites/scale-proxies.js";

describe("scale suites (membership, proxies), quick mode", () => {
  it("scale-membership: 1 and 10 handles × 2 and 64 replicas, bytes and CPU per set", async () => {
    const r = await quick(scaleMembershipSuite);
    wellFormed(r, ["snapshotBytes", "steadyBytesPerS", "handleUsPerChange", "steadyHandlesMsPerS"]);
    expect(r.rows.map((x) => [x["handles"], x["replicas"]])).toEqual([
      [1, 2],
      [1, 64],
      [10, 2],
      [10, 64],
    ]);
    // A set of 64 replicas is bigger than one of 2, and the same for any number of handles.
    const bytes = (h: number, n: number) => r.rows.find((x) => x["handles"] === h && x["replicas"] === n)!;
    expect(bytes(1, 64)["snapshotBytes"] as number).toBeGreaterThan(bytes(1, 2)["snapshotBytes"] as number);
    expect(r.targets).toHaveLength(4);
  }, 60_000);

  it("scale-proxies: tsserve start --proxies 1 and 2 serve HTTP with CPU per request", async () => {
    const r = await quick(scaleProxiesSuite);
    wellFormed(r, ["reqPerSec", "cpuUs", "ingressUs", "tputVsOne", "errors"]);
    expect(xs(r.rows, "proxies")).toEqual([1, 2]);
    for (const row of r.rows) {
      expect(row["errors"]).toBe(0);
      expect(row["reqPerSec"] as number).toBeGreaterThan(0);
    }
  }, 60_000);
});
