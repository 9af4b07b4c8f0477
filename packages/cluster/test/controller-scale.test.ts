import { describe, expect, it } from "vitest";
import { deployRequest, startHarness, startTraffic, waitForRunning } from "./helpers/controller-harness.js";

describe("Controller scaling", () => {
  it("scales 3 → 5 → 2 keeping surviving replica ids, with zero failed calls under traffic", async () => {
    await using h = await startHarness(2);
    await h.cluster.client.deploy(deployRequest("scale", "worker", { numReplicas: 3 }));
    const three = await waitForRunning(h.cluster, "scale", "Worker", 3);
    const first = new Set(three.replicas.map((r) => r.replicaId));
    // Placement spreads the deployment over both agents.
    expect(new Set(three.replicas.map((r) => r.nodeId)).size).toBe(2);

    const traffic = startTraffic(h.client.getDeploymentHandle("Worker", { app: "scale" }), {
      concurrency: 4,
      pauseMs: 5,
    });
    await new Promise((r) => setTimeout(r, 500));

    await h.cluster.client.deploy(deployRequest("scale", "worker", { numReplicas: 5 }));
    const five = await waitForRunning(h.cluster, "scale", "Worker", 5);
    const fiveIds = new Set(five.replicas.map((r) => r.replicaId));
    for (const id of first) expect(fiveIds.has(id), `replica ${id} kept while scaling up`).toBe(true);
    await new Promise((r) => setTimeout(r, 700));

    await h.cluster.client.deploy(deployRequest("scale", "worker", { numReplicas: 2 }));
    const two = await waitForRunning(h.cluster, "scale", "Worker", 2);
    for (const r of two.replicas)
      expect(fiveIds.has(r.replicaId), `survivor ${r.replicaId} was there before`).toBe(true);
    await new Promise((r) => setTimeout(r, 500));

    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    // Traffic reached the added replicas while they were up.
    expect(result.replicas.size).toBeGreaterThanOrEqual(5);
  });

  it("is idempotent: the same deploy twice leaves the replicas alone", async () => {
    await using h = await startHarness(1);
    const req = deployRequest("idem", "worker", { numReplicas: 2 });
    await h.cluster.client.deploy(req);
    const before = await waitForRunning(h.cluster, "idem", "Worker", 2);
    await h.cluster.client.deploy(req);
    await new Promise((r) => setTimeout(r, 600));
    const after = await waitForRunning(h.cluster, "idem", "Worker", 2);
    expect(after.replicas.map((r) => [r.replicaId, r.pid])).toEqual(
      before.replicas.map((r) => [r.replicaId, r.pid]),
    );
  });
});
