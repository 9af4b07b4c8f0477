import { describe, expect, it } from "vitest";
import { resolveDeploymentOptions } from "@tsserve/protocol/internal";
import { reconcileDeployment, type ReconcileActions } from "./reconciler.js";
import { ReplicaTable } from "./replica-table.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";

function dep(target: number, versionKey = "v1"): DeploymentRecord {
  return {
    app: "a",
    name: "D",
    spec: { config: resolveDeploymentOptions({ numReplicas: target }, "D"), codeVersion: versionKey },
    versionKey,
    target,
    failures: 0,
    backoffUntil: 0,
    unhealthy: null,
    lastError: "",
    deleting: false,
  };
}

let seq = 0;
function replica(state: ReplicaRecord["state"], versionKey = "v1", nodeId = "n1"): ReplicaRecord {
  seq++;
  return {
    replicaId: `D-${seq}`,
    generation: seq,
    app: "a",
    deployment: "D",
    nodeId,
    versionKey,
    codeVersion: versionKey,
    state,
    pid: seq,
    startedAt: seq,
    ongoing: 0,
    lastHeard: 0,
    createdAt: seq,
    stopRequestedAt: 0,
  };
}

/** Fake actions that apply to the table the way the controller does. */
function fake(table: ReplicaTable): ReconcileActions & { started: string[]; stopped: string[] } {
  const started: string[] = [];
  const stopped: string[] = [];
  return {
    started,
    stopped,
    start: (d, nodeId) => {
      const r = { ...replica("STARTING", d.versionKey, nodeId) };
      table.add(r);
      started.push(nodeId);
    },
    stop: (r) => {
      r.state = "DRAINING";
      stopped.push(r.replicaId);
    },
    retire: () => {},
    noCapacity: () => {},
  };
}

describe("reconcileDeployment", () => {
  it("starts missing replicas spread over live nodes", () => {
    const t = new ReplicaTable();
    const a = fake(t);
    reconcileDeployment(dep(3), t, ["n1", "n2"], 0, a);
    expect(a.started.sort()).toEqual(["n1", "n1", "n2"]);
  });

  it("scales down by draining STARTING replicas first, then the youngest", () => {
    const t = new ReplicaTable();
    const [r1, r2, r3] = [replica("RUNNING"), replica("RUNNING"), replica("STARTING")];
    for (const r of [r1!, r2!, r3!]) t.add(r);
    const a = fake(t);
    reconcileDeployment(dep(1), t, ["n1"], 0, a);
    expect(a.stopped).toEqual([r3!.replicaId, r2!.replicaId]);
    expect(a.started).toEqual([]);
  });

  it("never drains a healthy replica while a suspect one is left (late heartbeat or agent not live)", () => {
    const t = new ReplicaTable();
    const now = 100_000;
    // The zombie-like replica is the oldest and shares no node with the others: by per-node
    // counts and age it would be kept. It is suspect, so it goes first.
    const zombie = { ...replica("RUNNING", "v1", "n9"), lastHeard: now - 10_000, createdAt: 1 };
    const healthy = [1, 2].map(() => ({ ...replica("RUNNING", "v1", "n1"), lastHeard: now, createdAt: 50 }));
    for (const r of [zombie, ...healthy]) t.add(r);
    const a = fake(t);
    reconcileDeployment(dep(2), t, ["n1", "n9"], now, a);
    expect(a.stopped).toEqual([zombie.replicaId]);
    // Its agent not live counts as suspect as well, even with a fresh heartbeat.
    const t2 = new ReplicaTable();
    const unlisted = { ...replica("RUNNING", "v1", "gone"), lastHeard: now, createdAt: 1 };
    const fresh = [1, 2].map(() => ({ ...replica("RUNNING", "v1", "n1"), lastHeard: now, createdAt: 50 }));
    for (const r of [unlisted, ...fresh]) t2.add(r);
    const a2 = fake(t2);
    reconcileDeployment(dep(2), t2, ["n1"], now, a2);
    expect(a2.stopped).toEqual([unlisted.replicaId]);
  });

  it("rolls a bounded share at a time and drains old replicas only once new ones run", () => {
    const t = new ReplicaTable();
    const olds = [
      replica("RUNNING", "v1"),
      replica("RUNNING", "v1"),
      replica("RUNNING", "v1"),
      replica("RUNNING", "v1"),
    ];
    for (const r of olds) t.add(r);
    const a = fake(t);
    const d = dep(4, "v2");
    reconcileDeployment(d, t, ["n1"], 0, a);
    // max(1, 25 % of 4) = 1 new replica at a time; nothing old drained yet.
    expect(a.started.length).toBe(1);
    expect(a.stopped).toEqual([]);
    reconcileDeployment(d, t, ["n1"], 0, a);
    expect(a.started.length).toBe(1);
    // The new one becomes RUNNING: one old one may go, and the next new one starts.
    t.all().find((r) => r.versionKey === "v2")!.state = "RUNNING";
    reconcileDeployment(d, t, ["n1"], 0, a);
    expect(a.stopped).toEqual([olds[0]!.replicaId]);
    expect(a.started.length).toBe(2);
  });

  it("does not start replicas during crash-loop backoff or when unhealthy", () => {
    const t = new ReplicaTable();
    const a = fake(t);
    const d = dep(2);
    d.backoffUntil = 1000;
    reconcileDeployment(d, t, ["n1"], 500, a);
    expect(a.started).toEqual([]);
    d.backoffUntil = 0;
    d.unhealthy = "broken";
    reconcileDeployment(d, t, ["n1"], 500, a);
    expect(a.started).toEqual([]);
  });

  it("drains everything of a deleted deployment", () => {
    const t = new ReplicaTable();
    const r = replica("RUNNING");
    t.add(r);
    const a = fake(t);
    const d = dep(2);
    d.deleting = true;
    reconcileDeployment(d, t, ["n1"], 0, a);
    expect(a.stopped).toEqual([r.replicaId]);
  });
});
