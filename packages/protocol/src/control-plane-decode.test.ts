import { describe, expect, it } from "vitest";
import { decodeMembershipSnapshot, decodeReplicaHeartbeat } from "./control-plane-decode.js";
import { decodeStatusReport } from "./controller-api-decode.js";

const config = {
  maxOngoingRequests: 5,
  maxQueuedRequests: -1,
  requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
};
const snapshot = (extra: { replicas?: unknown[]; config?: object }) => ({
  app: "a",
  deployment: "D",
  version: 1,
  replicas: extra.replicas ?? [],
  config: { ...config, ...extra.config },
});

describe("multiplexed models on the wire", () => {
  it("keeps a membership snapshot's models and maxModelsPerReplica (decoders rebuild objects)", () => {
    const snap = decodeMembershipSnapshot(
      snapshot({
        replicas: [{ replicaId: "r1", nodeId: "n", models: ["m1", "m2"], extra: 1 }],
        config: { maxModelsPerReplica: 2 },
      }),
    );
    expect(snap.replicas).toEqual([{ replicaId: "r1", nodeId: "n", models: ["m1", "m2"] }]);
    expect(snap.config.maxModelsPerReplica).toBe(2);
    expect(decodeMembershipSnapshot(snapshot({})).config.maxModelsPerReplica).toBeUndefined();
  });

  it("refuses a bad maxModelsPerReplica or model id, naming the field", () => {
    expect(() => decodeMembershipSnapshot(snapshot({ config: { maxModelsPerReplica: 0 } }))).toThrow(
      /config\.maxModelsPerReplica: expected an integer >= 1, got 0/,
    );
    expect(() =>
      decodeMembershipSnapshot(snapshot({ replicas: [{ replicaId: "r1", nodeId: "n", models: ["a\nb"] }] })),
    ).toThrow(/models\[\] must be a non-empty string/);
    expect(() =>
      decodeReplicaHeartbeat({
        replicaId: "r1",
        app: "a",
        deployment: "D",
        nodeId: "n",
        state: "RUNNING",
        ongoing: 0,
        models: "m1",
      }),
    ).toThrow(/models: expected an array/);
  });

  it("checks the models of a status report's replicas", () => {
    const report = (models: unknown) => ({
      applications: [
        {
          name: "a",
          routePrefix: null,
          ingress: "D",
          deployments: [
            {
              name: "D",
              status: "HEALTHY",
              message: "",
              targetReplicas: 1,
              replicas: [
                { replicaId: "r1", nodeId: "n", state: "RUNNING", ongoing: 0, startedAt: 0, pid: 1, models },
              ],
            },
          ],
        },
      ],
      nodes: [],
    });
    expect(decodeStatusReport(report(["m1"])).applications[0]!.deployments[0]!.replicas[0]!.models).toEqual([
      "m1",
    ]);
    expect(() => decodeStatusReport(report([7]))).toThrow(
      /applications\[0\]\.deployments\[0\]\.replicas\[0\]\.models\[0\]: expected a string, got/,
    );
  });
});
