import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_TTL_MS, resolveControllerOptions } from "./controller-options.js";

describe("resolveControllerOptions", () => {
  it("fills in defaults and derives a valid KV bucket name from the prefix", () => {
    const o = resolveControllerOptions({ address: "nats://x:1", prefix: "team.a@b" });
    expect(o.leaseTtlMs).toBe(DEFAULT_LEASE_TTL_MS);
    expect(o.bucket).toBe("tsserve_team_a_b");
    expect(o.controllerId).toMatch(/^ctl-/);
  });

  it("names bad values and what is accepted", () => {
    expect(() => resolveControllerOptions({ address: "" })).toThrow(
      /controller\.address: expected a non-empty string/,
    );
    expect(() =>
      resolveControllerOptions({ address: "nats://x:1", leaseTtlMs: 1000, leaseRenewMs: 1000 }),
    ).toThrow(/controller\.leaseRenewMs: expected a value below leaseTtlMs \(1000\), got 1000/);
    expect(() => resolveControllerOptions({ address: "nats://x:1", prefix: "bad prefix" })).toThrow(
      /invalid subject prefix/,
    );
  });
});
