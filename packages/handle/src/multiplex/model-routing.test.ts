import type { ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { defaultModelGroups, LOCAL_MODEL_BELIEF_MS, ModelDirectory } from "./model-routing.js";

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

  it("when all are full, loads where the coldest model is, then on any (the least loaded evicts)", () => {
    const { dir, clock } = directory(2);
    const rs = [replica("a", ["m1", "m2"]), replica("b", ["m3", "m4"])];
    for (const [m, r] of [
      ["m3", "b"],
      ["m1", "a"],
      ["m2", "a"],
      ["m4", "b"],
    ] as const) {
      clock.now++;
      dir.routed(r, m);
    }
    // m3 was called longest ago: b evicts it.
    expect(ids(defaultModelGroups(rs, "m5", dir))).toEqual([["b"], ["a", "b"]]);
    clock.now++;
    dir.routed("b", "m3");
    expect(ids(defaultModelGroups(rs, "m5", dir))).toEqual([["a"], ["a", "b"]]);
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
