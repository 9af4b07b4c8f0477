import { describe, expect, it } from "vitest";
import { resolveDeploymentOptions, type MembershipSnapshot } from "@tsserve/protocol/internal";
import { MembershipPublisher } from "./membership-publisher.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";

const d: DeploymentRecord = {
  app: "a",
  name: "D",
  spec: { config: resolveDeploymentOptions({}, "D"), codeVersion: "v1" },
  versionKey: "k",
  target: 2,
  failures: 0,
  backoffUntil: 0,
  unhealthy: null,
  lastError: "",
  deleting: false,
};
const r = (id: string, state: ReplicaRecord["state"]): ReplicaRecord => ({
  replicaId: id,
  generation: 1,
  app: "a",
  deployment: "D",
  nodeId: "n1",
  versionKey: "k",
  codeVersion: "v1",
  state,
  pid: 1,
  startedAt: 0,
  ongoing: 0,
  lastHeard: 0,
  createdAt: 0,
  stopRequestedAt: 0,
});

describe("MembershipPublisher", () => {
  it("publishes only RUNNING replicas, only on change, with growing versions", () => {
    const sent: MembershipSnapshot[] = [];
    const p = new MembershipPublisher((s) => sent.push(s));
    expect(p.sync(d, [r("x", "RUNNING")])).toBe(false); // disabled during recovery
    p.enabled = true;
    expect(p.sync(d, [r("x", "RUNNING"), r("y", "STARTING")])).toBe(true);
    expect(p.sync(d, [r("x", "RUNNING"), r("y", "STARTING")])).toBe(false);
    expect(p.sync(d, [r("x", "RUNNING"), r("y", "RUNNING")])).toBe(true);
    expect(p.sync(d, [r("x", "DRAINING"), r("y", "RUNNING")])).toBe(true);
    expect(sent.map((s) => s.replicas.map((x) => x.replicaId))).toEqual([["x"], ["x", "y"], ["y"]]);
    expect(sent[1]!.version).toBeGreaterThan(sent[0]!.version);
    expect(sent[2]!.version).toBeGreaterThan(sent[1]!.version);
    p.republishAll();
    expect(sent.at(-1)!.version).toBe(sent[2]!.version);
  });

  it("keeps versions above a restored checkpoint even if the clock is behind", () => {
    const sent: MembershipSnapshot[] = [];
    const p = new MembershipPublisher((s) => sent.push(s));
    const future = Date.now() + 1_000_000;
    p.restore([["a/D", future]]);
    p.enabled = true;
    p.sync(d, [r("x", "RUNNING")]);
    expect(sent[0]!.version).toBe(future + 1);
  });

  it("carries models and maxModelsPerReplica for multiplexed deployments only", () => {
    const sent: MembershipSnapshot[] = [];
    const p = new MembershipPublisher((s) => sent.push(s));
    p.enabled = true;
    const withModels = (id: string, models?: string[]): ReplicaRecord =>
      models === undefined ? r(id, "RUNNING") : { ...r(id, "RUNNING"), models };
    p.sync(d, [withModels("x", ["a"])]);
    expect(sent[0]!.replicas).toEqual([{ replicaId: "x", nodeId: "n1" }]);
    expect(sent[0]!.config.maxModelsPerReplica).toBeUndefined();
    const m: DeploymentRecord = {
      ...d,
      name: "M",
      spec: {
        config: resolveDeploymentOptions({ multiplexed: { maxModelsPerReplica: 2 } }, "M"),
        codeVersion: "v1",
      },
    };
    expect(p.sync(m, [withModels("x", ["b", "a"]), withModels("y")])).toBe(true);
    expect(sent[1]!.replicas).toEqual([
      { replicaId: "x", nodeId: "n1", models: ["a", "b"] },
      { replicaId: "y", nodeId: "n1", models: [] },
    ]);
    expect(sent[1]!.config.maxModelsPerReplica).toBe(2);
    // The same set in another LRU order publishes nothing.
    expect(p.sync(m, [withModels("x", ["a", "b"]), withModels("y")])).toBe(false);
    expect(p.sync(m, [withModels("x", ["a"]), withModels("y")])).toBe(true);
  });
});
