/**
 * Multiplexed models through the controller (issue 21): replicas report their models on heartbeats,
 * the controller copies them into the membership it broadcasts and into `ctl.status`, and a handle
 * that never routed a model sends its calls where the model is.
 */
import { describe, expect, it } from "vitest";
import { connect, staticMembership } from "@tsserve/handle";
import { waitUntil } from "@tsserve/test-utils";
import {
  PREFIX,
  deployRequest,
  deploymentStatus,
  startHarness,
  waitForRunning,
} from "./helpers/controller-harness.js";

type Predict = { replica: string; modelId: string };
const MULTIPLEXED = { numReplicas: 2, maxOngoingRequests: 4, multiplexed: { maxModelsPerReplica: 2 } };

describe("multiplexed models in membership and status", () => {
  it("routes a second handle's calls to the replica that loaded the model, and status lists it", async () => {
    await using h = await startHarness(1);
    await h.cluster.client.deploy(deployRequest("mux", "models", MULTIPLEXED));
    const running = await waitForRunning(h.cluster, "mux", "Models", 2);
    const [a, b] = running.replicas.map((r) => ({ replicaId: r.replicaId, nodeId: r.nodeId }));

    // A handle that knows only replica a loads both models there (a's two slots).
    const only = h.client.getDeploymentHandle("Models", {
      app: "mux",
      membership: staticMembership({ replicas: [a!], config: { maxModelsPerReplica: 2 } }),
    });
    for (const m of ["x", "y"]) {
      const r = (await only.options({ multiplexedModelId: m, method: "predict" }).remote()) as Predict;
      expect(r).toEqual({ replica: a!.replicaId, modelId: m });
    }

    // The controller's membership and status now say where the models are.
    const members = await waitUntil(
      async () => {
        const s = await h.cluster.client.members("mux", "Models");
        const mine = s.replicas.find((r) => r.replicaId === a!.replicaId);
        return mine?.models?.length === 2 ? s : undefined;
      },
      { timeoutMs: 10_000, message: "membership listing a's two models" },
    );
    expect(members.config.maxModelsPerReplica).toBe(2);
    const byId = new Map(members.replicas.map((r) => [r.replicaId, r.models]));
    expect(byId.get(a!.replicaId)).toEqual(["x", "y"]);
    expect(byId.get(b!.replicaId)).toEqual([]);
    const status = deploymentStatus(await h.cluster.client.status(), "mux", "Models")!;
    const models = new Map(status.replicas.map((r) => [r.replicaId, r.models]));
    expect([...(models.get(a!.replicaId) ?? [])].sort()).toEqual(["x", "y"]);
    expect(models.get(b!.replicaId)).toEqual([]);

    // A second client that never routed either model: both go to a. Without the reports it would
    // see two empty replicas and put the second model on the other one (the most free slots).
    const other = await connect({ address: h.nats.url, prefix: PREFIX });
    try {
      const handle = other.getDeploymentHandle("Models", { app: "mux" });
      for (const m of ["x", "y", "x", "y"]) {
        const r = (await handle.options({ multiplexedModelId: m, method: "predict" }).remote()) as Predict;
        expect(r.replica, `model ${m}`).toBe(a!.replicaId);
      }
    } finally {
      await other.close();
    }
    // Replica b never loaded anything.
    const after = deploymentStatus(await h.cluster.client.status(), "mux", "Models")!;
    expect(after.replicas.find((r) => r.replicaId === b!.replicaId)?.models).toEqual([]);
  }, 60_000);
});
