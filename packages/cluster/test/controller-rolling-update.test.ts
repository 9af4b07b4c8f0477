import { describe, expect, it } from "vitest";
import {
  deployRequest,
  startHarness,
  startTraffic,
  waitForRunning,
  watchMembership,
} from "./helpers/controller-harness.js";

describe("Controller rolling update", () => {
  it("replaces every replica on a config change with zero failed calls and never fewer than target RUNNING", async () => {
    await using h = await startHarness(2);
    await h.cluster.client.deploy(deployRequest("roll", "worker", { numReplicas: 3 }, "v1"));
    const before = await waitForRunning(h.cluster, "roll", "Worker", 3);
    const oldIds = new Set(before.replicas.map((r) => r.replicaId));

    const traffic = startTraffic(h.client.getDeploymentHandle("Worker", { app: "roll" }), {
      concurrency: 4,
      pauseMs: 5,
    });
    await new Promise((r) => setTimeout(r, 500));
    const members = watchMembership(h.client, "roll", "Worker");

    // New code version and a changed option: every replica must be replaced.
    await h.cluster.client.deploy(
      deployRequest("roll", "worker", { numReplicas: 3, maxOngoingRequests: 7 }, "v2"),
    );
    const updating = (await h.cluster.client.status()).applications[0]!.deployments[0]!;
    expect(updating.status).toBe("UPDATING");
    const after = await waitForRunning(h.cluster, "roll", "Worker", 3, 30_000);
    for (const r of after.replicas) expect(oldIds.has(r.replicaId), `${r.replicaId} is new`).toBe(false);
    await new Promise((r) => setTimeout(r, 700));
    members.stop();

    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    // Capacity never dropped: every broadcast during the update had at least 3 RUNNING replicas.
    expect(members.snapshots.length).toBeGreaterThan(2);
    for (const s of members.snapshots) expect(s.replicas.length).toBeGreaterThanOrEqual(3);
    const versions = members.snapshots.map((s) => s.version);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThanOrEqual(versions[i - 1]!);
    expect(members.snapshots.at(-1)!.config.maxOngoingRequests).toBe(7);
  });
});
