import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { multiplexingSuite } from "../suites/multiplexing.js";

const benchDir = fileURLToPath(new URL("..", import.meta.url));

describe("multiplexing suite, quick mode (4 replica processes, real nats-server)", () => {
  it("serves every call for both rules, counts loads, and never loads one model twice at once on a replica", async () => {
    const r = await multiplexingSuite.run({ quick: true, address: null, benchDir, log: () => undefined });
    expect(r.rows.map((x) => x["router"]).sort()).toEqual(["Ray's rule", "tsserve"]);
    for (const x of r.rows) {
      expect(x["errors"]).toBe(0);
      expect(Number(x["calls"])).toBeGreaterThan(150);
      // 20 models in 12 slots: loads are unavoidable, and each is counted by the replicas.
      expect(Number(x["loads"])).toBeGreaterThan(0);
      expect(Number(x["p99Ms"])).toBeGreaterThan(0);
      expect(x["maxConcurrentLoadsOfOne"]).toBe(1);
      expect(x["loadsWhileHeld"]).toBe(0);
    }
    // The loads and p99 ratios are the full run's targets (quick mode's ~60 loads per row are noise).
    const invariant = r.targets.find((t) => t.name.startsWith("no model loaded twice"))!;
    expect(invariant.met).toBe(true);
  }, 120_000);
});
