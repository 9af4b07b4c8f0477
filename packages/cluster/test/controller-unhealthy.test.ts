import { describe, expect, it } from "vitest";
import { waitUntil } from "@tsserve/test-utils";
import {
  countAgentStarts,
  deployRequest,
  deploymentStatus,
  startHarness,
} from "./helpers/controller-harness.js";

describe("Controller crash loops", () => {
  it("reports a throwing constructor as UNHEALTHY with its error and bounds the restarts", async () => {
    await using h = await startHarness(1);
    const starts = countAgentStarts(h.client);
    const began = Date.now();
    await h.cluster.client.deploy(deployRequest("bad", "exploding", { numReplicas: 1 }));
    const d = await waitUntil(
      async () => {
        const s = deploymentStatus(await h.cluster.client.status(), "bad", "Exploding");
        return s?.status === "UNHEALTHY" ? s : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 100, message: "Exploding UNHEALTHY" },
    );
    const elapsed = Date.now() - began;
    console.log(`UNHEALTHY after ${elapsed} ms: ${d.message}`);
    expect(d.message).toContain("BOOM-42");
    expect(elapsed).toBeLessThan(20_000);
    // Ray's bound: min(numReplicas * 3, 20) attempts, then no restart storm.
    await new Promise((r) => setTimeout(r, 2000));
    starts.stop();
    expect(starts.counts.get("Exploding")).toBe(3);
    expect(d.replicas).toEqual([]);

    // delete of an unknown app is a clear DEPLOYMENT_NOT_FOUND; of a known one it works.
    await expect(h.cluster.client.delete("nope")).rejects.toMatchObject({
      code: "DEPLOYMENT_NOT_FOUND",
      message: expect.stringContaining('"nope"'),
    });
    await h.cluster.client.delete("bad");
    await waitUntil(async () => (await h.cluster.client.status()).applications.length === 0, {
      timeoutMs: 5000,
      message: "app bad removed",
    });
  });
});
