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
});
