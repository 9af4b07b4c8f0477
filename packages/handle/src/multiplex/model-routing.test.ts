import type { ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { PowerOfTwoChoicesRouter } from "../power-of-two-router.js";
import type { RoutingRequest } from "../request-router.js";
import {
  chooseGroups,
  defaultModelGroups,
  LOCAL_MODEL_BELIEF_MS,
  MODEL_MATCH_PATIENCE_MS,
  ModelDirectory,
  modelPatienceMs,
} from "./model-routing.js";

const replica = (replicaId: string, models?: string[]): ReplicaInfo =>
  models === undefined ? { replicaId, nodeId: "n" } : { replicaId, nodeId: "n", models };
const ids = (groups: ReplicaInfo[][]) => groups.map((g) => g.map((r) => r.replicaId));

function directory(max = 3): { dir: ModelDirectory; clock: { now: number } } {
  const clock = { now: 0 };
  const dir = new ModelDirectory(() => clock.now);
  dir.maxModelsPerReplica = max;
  return { dir, clock };
}

describe("defaultModelGroups", () => {
  it("ranks replicas that report the model first, then the one with the most free slots, then all", () => {
    const { dir } = directory(3);
    const rs = [replica("a", ["m1", "m2"]), replica("b", ["m3"]), replica("c", ["m9", "m8", "m7"])];
    expect(ids(defaultModelGroups(rs, "m3", dir))).toEqual([["b"], ["a"], ["a", "b", "c"]]);
    // A model nobody has: b has two free slots, a one, c none.
    expect(ids(defaultModelGroups(rs, "new", dir))).toEqual([["b"], ["a", "b"], ["a", "b", "c"]]);
  });

  it("when all are full, loads where the coldest models are (the two), then on any", () => {
    const { dir, clock } = directory(2);
    const rs = [replica("a", ["m1", "m2"]), replica("b", ["m3", "m4"]), replica("c", ["m5", "m6"])];
    const calls = [
      ["m3", "b"],
      ["m5", "c"],
      ["m1", "a"],
      ["m2", "a"],
      ["m4", "b"],
      ["m6", "c"],
    ] as const;
    for (const [m, r] of calls) {
      clock.now++;
      dir.routed(r, m);
    }
    // m3 (b) and m5 (c) were called longest ago.
    expect(ids(defaultModelGroups(rs, "m9", dir))).toEqual([
      ["b", "c"],
      ["a", "b", "c"],
    ]);
    clock.now++;
    dir.routed("b", "m3");
    expect(ids(defaultModelGroups(rs, "m9", dir))).toEqual([
      ["c", "a"],
      ["a", "b", "c"],
    ]);
    // Without reports there is nothing to compare: every replica.
    expect(
      ids(
        defaultModelGroups([replica("a"), replica("b")], "m5", {
          ...dir,
          count: () => 2,
          has: () => false,
          maxModelsPerReplica: 2,
        }),
      ),
    ).toEqual([["a", "b"]]);
  });
});

describe("ModelDirectory", () => {
  it("follows its own sends at once, before any report", () => {
    const { dir } = directory(2);
    const rs = [replica("a", []), replica("b", [])];
    dir.routed("b", "m1");
    expect(ids(defaultModelGroups(rs, "m1", dir))[0]).toEqual(["b"]);
    // b is believed to hold one model now: a new model goes to a (two free slots).
    expect(ids(defaultModelGroups(rs, "m2", dir))[0]).toEqual(["a"]);
  });

  it("trusts a replica's report over its own sends once they are older than the belief window", () => {
    const { dir, clock } = directory(2);
    dir.routed("a", "m1");
    clock.now = LOCAL_MODEL_BELIEF_MS - 1;
    expect(dir.has(replica("a", []), "m1")).toBe(true);
    clock.now = LOCAL_MODEL_BELIEF_MS + 1;
    // The report says a evicted (or never loaded) m1: believed.
    expect(dir.has(replica("a", []), "m1")).toBe(false);
    expect(dir.count(replica("a", []))).toBe(0);
    expect(dir.has(replica("a", ["m1"]), "m1")).toBe(true);
  });

  it("keeps its own sends as long as the replica reports nothing (static membership)", () => {
    const { dir, clock } = directory(2);
    dir.routed("a", "m1");
    dir.routed("a", "m2");
    dir.routed("a", "m3"); // beyond the 2 slots: m1 is evicted, as on the replica
    clock.now = 10 * LOCAL_MODEL_BELIEF_MS;
    expect(dir.has(replica("a"), "m1")).toBe(false);
    expect(dir.has(replica("a"), "m3")).toBe(true);
    expect(dir.count(replica("a"))).toBe(2);
  });

  it("counts reported and own models once each, never above the slots", () => {
    const { dir } = directory(3);
    dir.routed("a", "m1");
    dir.routed("a", "m4");
    expect(dir.count(replica("a", ["m1", "m2"]))).toBe(3);
    dir.routed("a", "m5");
    expect(dir.count(replica("a", ["m1", "m2"]))).toBe(3);
  });
});

describe("model patience", () => {
  const context = { app: "a", deployment: "D", maxOngoingRequests: 4, inFlight: () => 0 };
  const request = (modelId: string): RoutingRequest => ({
    requestId: `q-${modelId}`,
    sessionId: null,
    method: "__call__",
    createdAt: 0,
    args: [],
    multiplexedModelId: modelId,
  });

  it("waits for a replica that has the model, never for one that must load it anyway", () => {
    const router = new PowerOfTwoChoicesRouter(context, {});
    const rs = [replica("a", ["m1"]), replica("b", [])];
    const held = request("m1");
    expect(ids(chooseGroups(router, null, rs, held))[0]).toEqual(["a"]);
    expect(modelPatienceMs(router, held)).toBe(MODEL_MATCH_PATIENCE_MS);
    const fresh = request("m2");
    expect(ids(chooseGroups(router, null, rs, fresh))[0]).toEqual(["b"]);
    expect(modelPatienceMs(router, fresh)).toBe(0);
  });
});
