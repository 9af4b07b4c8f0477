import { isDeploymentNotFoundError } from "@tsserve/protocol";
import { errorOf, waitUntil } from "@tsserve/test-utils";
import { describe, expect, it } from "vitest";
import { deployRequest, startHarness, waitForRunning } from "./helpers/controller-harness.js";

describe("Controller: a deleted deployment fails fast in existing handles", () => {
  it("fails waiting and new calls with DeploymentNotFoundError within 1 s, then recovers on redeploy", async () => {
    await using h = await startHarness(1);
    const req = deployRequest("gone", "worker", { numReplicas: 1, maxOngoingRequests: 1 });
    await h.cluster.client.deploy(req);
    await waitForRunning(h.cluster, "gone", "Worker", 1);
    const handle = h.client.getDeploymentHandle("Worker", { app: "gone" });
    const slow = handle.options({ method: "slow" });
    expect(await slow.remote(1)).toBeTypeOf("string");

    const running = slow.remote(1500); // holds the only slot; it finishes while draining
    await new Promise((r) => setTimeout(r, 200));
    const waiting = handle.remote("queued"); // no timeout: it used to wait forever
    const deletedAt = performance.now();
    await h.cluster.client.delete("gone");
    const error = await errorOf(waiting);
    expect(isDeploymentNotFoundError(error)).toBe(true);
    expect(performance.now() - deletedAt).toBeLessThan(1000);
    expect(await running).toBeTypeOf("string");
    expect(isDeploymentNotFoundError(await errorOf(handle.remote("new")))).toBe(true);

    // The same deployment deployed again: the old handle follows it.
    await h.cluster.client.deploy(req);
    await waitForRunning(h.cluster, "gone", "Worker", 1);
    const back = await waitUntil(
      async () => {
        try {
          return (await handle.options({ timeoutMs: 2000 }).remote("back")) as { input: unknown };
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 15_000, intervalMs: 200, message: "the old handle serves the redeployed deployment" },
    );
    expect(back.input).toBe("back");
  });
});
