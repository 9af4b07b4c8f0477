import { describe, expect, it } from "vitest";
import {
  resolveDeploymentOptions,
  type AgentHeartbeat,
  type ApplicationSpec,
  type ReplicaHeartbeat,
} from "@tsserve/protocol/internal";
import { resolveControllerOptions } from "./controller-options.js";
import type { ControllerCore } from "./core.js";
import { DesiredState } from "./desired-state.js";
import { Generations } from "./generations.js";
import { onAgentHeartbeat, onReplicaHeartbeat } from "./replica-events.js";
import { ReplicaTable } from "./replica-table.js";
import type { NodeRecord, ReplicaRecord } from "./types.js";

const APP: ApplicationSpec = {
  name: "app",
  routePrefix: null,
  importPath: "app.ts#app",
  cwd: "/srv",
  ingress: "D",
  deployments: [{ config: resolveDeploymentOptions({ numReplicas: 1 }, "D"), codeVersion: "v1" }],
};

/** A ControllerCore with real state and recorded side effects. */
function fakeCore(
  recovering = false,
): ControllerCore & { fenced: string[]; agentStops: string[]; changed: number } {
  const desired = new DesiredState();
  desired.apply([APP]);
  const core = {
    opts: resolveControllerOptions({ address: "nats://x", agentTimeoutMs: 1000 }),
    desired,
    table: new ReplicaTable(),
    nodes: new Map<string, NodeRecord>(),
    generations: new Generations(),
    recovering,
    rejectedMessages: 0,
    fenced: [] as string[],
    agentStops: [] as string[],
    changed: 0,
    membershipChanged: () => void core.changed++,
    stopOnAgent: (r: ReplicaRecord) => void core.agentStops.push(r.replicaId),
    fence: (r: { replicaId: string }) => void core.fenced.push(r.replicaId),
    log: () => {},
    rejectMessage: () => void core.rejectedMessages++,
  };
  return core;
}

function hb(replicaId: string, generation: number, nodeId = "n1"): ReplicaHeartbeat {
  return {
    replicaId,
    app: "app",
    deployment: "D",
    nodeId,
    state: "RUNNING",
    ongoing: 0,
    pid: 42,
    startedAt: 1,
    codeVersion: "v1",
    generation,
  };
}

function agentHb(nodeId: string, replicas: [string, number][]): AgentHeartbeat {
  return {
    nodeId,
    pid: 7,
    hostname: "h",
    startedAt: 1,
    replicas: replicas.map(([replicaId, generation]) => ({
      replicaId,
      app: "app",
      deployment: "D",
      pid: 42,
      startedAt: 1,
      generation,
    })),
  };
}

describe("replica fencing in the controller", () => {
  it("never adopts a retired generation, also long after its tombstone expired", () => {
    const core = fakeCore();
    // Generations 1..5 were issued; the table holds none of them (all removed).
    for (let i = 0; i < 5; i++) core.generations.issue();
    onAgentHeartbeat(core, agentHb("n1", [["D-old", 3]]), 0);
    const hour = 3_600_000;
    onReplicaHeartbeat(core, hb("D-old", 3), hour);
    expect(core.table.get("D-old")).toBeUndefined();
    expect(core.fenced).toContain("D-old");
    // Its agent listed it: it is asked to stop it too.
    expect(core.agentStops).toContain("D-old");
  });

  it("adopts a replica issued after the last checkpoint only when a live agent lists it", () => {
    const core = fakeCore();
    core.generations.restore(10); // the checkpoint said: next generation 10
    onReplicaHeartbeat(core, hb("D-gap", 12), 0);
    expect(core.table.get("D-gap")).toBeUndefined(); // no agent lists it (yet)
    onAgentHeartbeat(core, agentHb("n1", [["D-gap", 12]]), 10);
    onReplicaHeartbeat(core, hb("D-gap", 12), 20);
    expect(core.table.get("D-gap")?.state).toBe("RUNNING");
    // Generation 12 is now taken: the next one issued is above it.
    expect(core.generations.issue()).toBe(13);
  });

  it("fences a replica no live agent lists once the agent timeout has passed (orphan)", () => {
    const core = fakeCore();
    core.generations.restore(10);
    onAgentHeartbeat(core, agentHb("n1", []), 0); // a respawned agent with the same node id
    onReplicaHeartbeat(core, hb("D-orphan", 11), 0);
    onReplicaHeartbeat(core, hb("D-orphan", 11), 500);
    expect(core.fenced).toEqual([]);
    onReplicaHeartbeat(core, hb("D-orphan", 11), 1500);
    expect(core.fenced).toEqual(["D-orphan"]);
    expect(core.table.get("D-orphan")).toBeUndefined();
  });

  it("drops a STARTING replica its agent stopped listing (the agent restarted), not one just asked for", () => {
    const core = fakeCore();
    const grace = core.opts.agentRequestTimeoutMs + core.opts.agentTimeoutMs;
    const starting = (replicaId: string, createdAt: number): ReplicaRecord => ({
      ...toStarting(replicaId),
      createdAt,
      lastHeard: createdAt,
    });
    core.table.add(starting("D-old", 0));
    core.table.add(starting("D-new", 10 * grace - 10));
    core.table.add(starting("D-listed", 0));
    onAgentHeartbeat(core, agentHb("n1", [["D-listed", 3]]), 10 * grace);
    expect(core.table.get("D-old")).toBeUndefined();
    expect(core.fenced).toEqual(["D-old"]);
    expect(core.table.get("D-new")?.state).toBe("STARTING");
    expect(core.table.get("D-listed")?.state).toBe("STARTING");
    // A recovering controller does not judge: recovery prunes what was not heard.
    const recovering = fakeCore(true);
    recovering.table.add(starting("D-old", 0));
    onAgentHeartbeat(recovering, agentHb("n1", []), 10 * grace);
    expect(recovering.table.get("D-old")?.state).toBe("STARTING");
  });

  it("drops and counts malformed or forged heartbeats", () => {
    const core = fakeCore();
    onReplicaHeartbeat(core, { replicaId: "x", state: "RUNNING" }, 0);
    onAgentHeartbeat(core, { nodeId: "n1", replicas: "all" }, 0);
    expect(core.rejectedMessages).toBe(2);
    expect(core.table.size).toBe(0);
  });
});

describe("models on replica heartbeats (multiplexed deployments)", () => {
  it("keeps the reported models and republishes membership only when the set changes", () => {
    const core = fakeCore();
    core.generations.restore(10);
    onAgentHeartbeat(core, agentHb("n1", [["D-m", 11]]), 0);
    onReplicaHeartbeat(core, hb("D-m", 11), 10);
    expect(core.table.get("D-m")?.state).toBe("RUNNING");
    const before = core.changed;
    onReplicaHeartbeat(core, { ...hb("D-m", 11), models: ["a"] }, 20);
    expect(core.table.get("D-m")?.models).toEqual(["a"]);
    expect(core.changed).toBe(before + 1);
    onReplicaHeartbeat(core, { ...hb("D-m", 11), models: ["a", "b"] }, 30);
    expect(core.changed).toBe(before + 2);
    // A new LRU order is kept for status but is not a new set for routing.
    onReplicaHeartbeat(core, { ...hb("D-m", 11), models: ["b", "a"] }, 40);
    expect(core.table.get("D-m")?.models).toEqual(["b", "a"]);
    expect(core.changed).toBe(before + 2);
    // A heartbeat without models (a stateless replica) leaves the record as it was.
    onReplicaHeartbeat(core, hb("D-m", 11), 50);
    expect(core.table.get("D-m")?.models).toEqual(["b", "a"]);
    expect(core.changed).toBe(before + 2);
  });
});

/** A STARTING record on node n1, as startReplica adds it. */
function toStarting(replicaId: string): ReplicaRecord {
  return {
    replicaId,
    app: "app",
    deployment: "D",
    nodeId: "n1",
    versionKey: "",
    codeVersion: "v1",
    state: "STARTING",
    pid: 0,
    startedAt: 0,
    ongoing: 0,
    lastHeard: 0,
    createdAt: 0,
    stopRequestedAt: 0,
    generation: 3,
  };
}
