import { describe, expect, it } from "vitest";
import { waitUntil } from "@tsserve/test-utils";
import {
  deployRequest,
  deploymentStatus,
  startHarness,
  waitForRunning,
} from "./helpers/controller-harness.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("Controller agent liveness", () => {
  it("presumes a silent agent's replicas lost, replaces them elsewhere, and stops them when it returns", async () => {
    await using h = await startHarness(2);
    await h.cluster.client.deploy(deployRequest("quiet", "worker", { numReplicas: 2 }));
    const before = await waitForRunning(h.cluster, "quiet", "Worker", 2);
    const [nodeA, nodeB] = h.cluster.nodeIds;
    const onB = before.replicas.find((r) => r.nodeId === nodeB)!;
    const agentB = h.cluster.pids.agents[1]!;
    // Freeze agent B: no more agent heartbeats (its replica keeps running and heartbeating).
    process.kill(agentB, "SIGSTOP");
    const t0 = Date.now();
    try {
      await waitUntil(
        async () => {
          const s = await h.cluster.client.status();
          const d = deploymentStatus(s, "quiet", "Worker");
          const running = d?.replicas.filter((r) => r.state === "RUNNING") ?? [];
          return running.length === 2 && running.every((r) => r.nodeId === nodeA) && d!.replicas.length === 2;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: "both replicas on agent A" },
      );
      const replacedMs = Date.now() - t0;
      console.log(`silent agent's replica replaced in ${replacedMs} ms (agent timeout 5 s)`);
      expect(replacedMs).toBeGreaterThanOrEqual(3000);
      expect(alive(onB.pid)).toBe(true);
    } finally {
      process.kill(agentB, "SIGCONT");
    }
    // Agent B is back: its stale replica is stopped, the deployment keeps exactly 2 replicas on A.
    await waitUntil(() => !alive(onB.pid), { timeoutMs: 15_000, message: "stale replica stopped" });
    const after = await waitForRunning(h.cluster, "quiet", "Worker", 2);
    expect(after.replicas.every((r) => r.nodeId === nodeA)).toBe(true);
    expect((await h.cluster.client.status()).nodes.map((n) => n.nodeId).sort()).toEqual(
      [nodeA, nodeB].sort(),
    );
  });
});
