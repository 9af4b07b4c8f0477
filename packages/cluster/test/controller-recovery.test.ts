import { describe, expect, it } from "vitest";
import type { StatusReport } from "@tsserve/protocol";
import {
  deployRequest,
  startHarness,
  startTraffic,
  waitForCheckpointRunning,
  waitForRunning,
} from "./helpers/controller-harness.js";

describe("Controller recovery", () => {
  it("keeps serving through a controller SIGKILL; the new controller adopts the replicas and can scale", async () => {
    await using h = await startHarness(1);
    await h.cluster.client.deploy(deployRequest("rec", "worker", { numReplicas: 3 }));
    const before = await waitForRunning(h.cluster, "rec", "Worker", 3);
    const identity = (rs: { replicaId: string; pid: number }[]): string[] =>
      rs.map((r) => `${r.replicaId}@${r.pid}`).sort();

    const traffic = startTraffic(h.client.getDeploymentHandle("Worker", { app: "rec" }), {
      concurrency: 4,
      pauseMs: 5,
    });
    await new Promise((r) => setTimeout(r, 500));
    const oldPid = h.cluster.pids.controller;
    await h.cluster.killController();
    const okAtKill = traffic.result.ok;
    // The controller is not on the request path: calls keep succeeding while it is down.
    await new Promise((r) => setTimeout(r, 1500));
    expect(traffic.result.ok).toBeGreaterThan(okAtKill + 50);
    expect(traffic.result.failed).toBe(0);

    const t0 = Date.now();
    await h.cluster.restartController();
    const recoveredMs = Date.now() - t0;
    console.log(
      `new controller answering with every agent ${recoveredMs} ms after its start (lease takeover + recovery)`,
    );
    expect(h.cluster.pids.controller).not.toBe(oldPid);
    const adopted = await waitForRunning(h.cluster, "rec", "Worker", 3);
    // Same ids and pids: adopted, not restarted.
    expect(identity(adopted.replicas)).toEqual(identity(before.replicas));

    await h.cluster.client.deploy(deployRequest("rec", "worker", { numReplicas: 4 }));
    const four = await waitForRunning(h.cluster, "rec", "Worker", 4);
    const ids = new Set(four.replicas.map((r) => r.replicaId));
    for (const r of before.replicas) expect(ids.has(r.replicaId)).toBe(true);

    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    // Lease takeover (ttl 3 s) plus recovery: bounded.
    expect(recoveredMs).toBeLessThan(10_000);
  });
});

describe("a controller that just took the lease", () => {
  it("answers status (recovering) and accepts a deploy during recovery; acts on it once recovery is over", async () => {
    await using h = await startHarness(1);
    await h.cluster.client.deploy(deployRequest("recw", "worker", { numReplicas: 2 }));
    const before = await waitForRunning(h.cluster, "recw", "Worker", 2);
    // The checkpoint must say RUNNING: a replica it still lists as STARTING would get its startup
    // timeout (60 s) after the restart instead of the short window this test is about.
    await waitForCheckpointRunning(h.client, "recw", "Worker", 2);
    await h.cluster.killController();
    // A frozen replica its agent still lists holds recovery for its whole window (2.5 s): it is
    // alive as far as anyone can tell, only silent.
    const frozen = before.replicas[0]!;
    process.kill(frozen.pid, "SIGSTOP");
    try {
      // Status is polled while the new controller starts: its first answers come during recovery.
      const seen: StatusReport[] = [];
      let restarted = false;
      const restart = h.cluster.restartController().finally(() => (restarted = true));
      let deployedWhileRecovering = false;
      const deadline = Date.now() + 30_000;
      while (
        Date.now() < deadline &&
        (!restarted || seen.length === 0 || seen.at(-1)!.controller?.recovering === true)
      ) {
        const s = await h.cluster.client.status().catch(() => undefined);
        if (s) seen.push(s);
        if (s?.controller?.recovering === true && !deployedWhileRecovering) {
          // A deploy is accepted at once; the reconcile loop acts on it when recovery is over.
          await h.cluster.client.deploy(deployRequest("recw", "worker", { numReplicas: 3 }));
          deployedWhileRecovering = true;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await restart;
      expect(seen.some((s) => s.controller?.recovering === true)).toBe(true);
      expect(deployedWhileRecovering).toBe(true);
      expect(seen.at(-1)!.controller?.recovering).toBeUndefined();
      // The frozen replica was not heard: it is replaced, and the deploy's third replica started.
      const three = await waitForRunning(h.cluster, "recw", "Worker", 3);
      expect(three.replicas.map((r) => r.replicaId)).not.toContain(frozen.replicaId);
      expect(three.replicas.map((r) => r.replicaId)).toContain(before.replicas[1]!.replicaId);
    } finally {
      try {
        process.kill(frozen.pid, "SIGKILL");
      } catch {
        // already stopped by its agent
      }
    }
  });
});
