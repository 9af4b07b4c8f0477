import { describe, expect, it } from "vitest";
import { waitUntil } from "@tsserve/test-utils";
import { deployRequest, deploymentStatus, startHarness, startTraffic } from "./helpers/controller-harness.js";

describe("Controller autoscaling", () => {
  it("grows 1 → 4 replicas under 8 concurrent calls (target 2 each) and shrinks back when load stops", async () => {
    await using h = await startHarness(1);
    await h.cluster.client.deploy(
      deployRequest("auto", "worker", {
        autoscalingConfig: {
          minReplicas: 1,
          maxReplicas: 4,
          targetOngoingRequests: 2,
          upscaleDelayS: 0.5,
          downscaleDelayS: 1.5,
          lookBackPeriodS: 1,
        },
      }),
    );
    const running = async (): Promise<number> => {
      const d = deploymentStatus(await h.cluster.client.status(), "auto", "Worker");
      return d ? d.replicas.filter((r) => r.state === "RUNNING").length : -1;
    };
    await waitUntil(async () => (await running()) === 1, { timeoutMs: 15_000, message: "1 replica" });

    const traffic = startTraffic(h.client.getDeploymentHandle("Worker", { app: "auto" }), {
      concurrency: 8,
      method: "slow",
      arg: 250,
      maxCalls: 400,
    });
    await waitUntil(
      async () => {
        const d = deploymentStatus(await h.cluster.client.status(), "auto", "Worker");
        return d?.targetReplicas === 4 && d.replicas.filter((r) => r.state === "RUNNING").length === 4;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: "4 RUNNING replicas under load" },
    );
    // Let routers see the new replicas before the load stops.
    await new Promise((r) => setTimeout(r, 1000));
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.replicas.size).toBeGreaterThanOrEqual(3);

    await waitUntil(
      async () => {
        const d = deploymentStatus(await h.cluster.client.status(), "auto", "Worker");
        return d?.targetReplicas === 1 && d.replicas.length === 1;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: "back to 1 replica after the load stopped" },
    );
  });
});
