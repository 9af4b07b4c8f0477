import {
  decodeAgentHeartbeat,
  decodeReplicaExit,
  decodeReplicaHeartbeat,
  type AgentHeartbeat,
  type AgentReplica,
  type ReplicaExit,
  type ReplicaHeartbeat,
} from "@tsserve/protocol/internal";
import type { ControllerCore } from "./core.js";
import { recordFailure, recordReady, removeReplica } from "./health-monitor.js";
import { depKey, type ReplicaRecord } from "./types.js";

/**
 * Turns what replicas and agents report into replica state transitions:
 * STARTING → RUNNING (READY) → DRAINING → gone, or FAILED / exited → gone (and counted).
 * Malformed messages are logged and dropped; they never throw into the subscription loop.
 */

/** Decodes with `decode`, or counts and logs the malformed body and returns undefined. */
function decoded<T>(
  core: ControllerCore,
  what: string,
  body: unknown,
  decode: (v: unknown) => T,
): T | undefined {
  try {
    return decode(body);
  } catch (e) {
    core.rejectMessage(`dropping malformed ${what}: ${(e as Error).message}`);
    return undefined;
  }
}

/** Last non-empty stderr line(s) of an exit report: where a constructor's error shows. */
function exitMessage(ex: ReplicaExit): string {
  const lines = (ex.stderrTail ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errorLine = lines.find((l) => /error/i.test(l) && !/^at /.test(l));
  const how = ex.signal ? `signal ${ex.signal}` : `code ${ex.code}`;
  return errorLine ? `${errorLine} (exited with ${how})` : `process exited with ${how}`;
}

/**
 * Adopts a replica the controller did not start (or forgot): after a restart, or a checkpoint gap.
 * Fencing first: a retired generation is told to stop and never adopted; a replica no live agent
 * lists is not adopted either (an orphan whose agent died, or a replica of an agent that came back
 * under the same node id without it), and is told to stop once it has stayed unlisted for longer
 * than an agent's heartbeats can lag.
 */
function adopt(core: ControllerCore, hb: ReplicaHeartbeat, now: number): void {
  const generation = hb.generation ?? 0;
  if (core.generations.isRetired(generation)) {
    core.fence({ ...hb, generation }, `generation ${generation} was retired`);
    return;
  }
  const listed = core.nodes.get(hb.nodeId)?.replicaIds.has(hb.replicaId) === true;
  if (!listed) {
    const since = core.table.unlistedSince(hb.replicaId, now);
    if (!core.recovering && now - since > core.opts.agentTimeoutMs) {
      core.log(`replica ${hb.replicaId} heartbeats but no live agent lists it: fencing it`);
      core.fence({ ...hb, generation }, "no live agent lists it");
    }
    return;
  }
  core.table.clearUnlisted(hb.replicaId);
  const d = core.desired.live(hb.app, hb.deployment);
  if (!d) {
    // A replica of nothing we serve (its app was deleted while we were down): stop it.
    if (!core.recovering && hb.state === "RUNNING" && core.nodes.has(hb.nodeId)) {
      core.log(
        `stopping orphan replica ${hb.replicaId} of unknown deployment ${depKey(hb.app, hb.deployment)}`,
      );
      core.stopOnAgent(toRecord(hb, "orphan", now), true, 5000);
      core.fence({ ...hb, generation }, "its deployment is gone");
      core.table.remove(hb.replicaId, now);
    }
    return;
  }
  core.generations.noteAdopted(generation);
  const versionKey = hb.codeVersion === d.spec.codeVersion ? d.versionKey : `adopted:${hb.codeVersion}`;
  core.table.add(toRecord(hb, versionKey, now));
  core.log(`adopted replica ${hb.replicaId} (pid ${hb.pid}) of ${depKey(hb.app, hb.deployment)}`);
  core.membershipChanged(hb.app, hb.deployment);
}

function toRecord(hb: ReplicaHeartbeat, versionKey: string, now: number): ReplicaRecord {
  return {
    replicaId: hb.replicaId,
    app: hb.app,
    deployment: hb.deployment,
    nodeId: hb.nodeId,
    versionKey,
    codeVersion: hb.codeVersion,
    state: hb.state === "FAILED" ? "STOPPED" : hb.state,
    pid: hb.pid,
    startedAt: hb.startedAt,
    ongoing: hb.ongoing,
    lastHeard: now,
    createdAt: hb.startedAt || now,
    stopRequestedAt: 0,
    generation: hb.generation ?? 0,
  };
}

function toRecordFromAgent(nodeId: string, ar: AgentReplica, now: number): ReplicaRecord {
  return {
    replicaId: ar.replicaId,
    app: ar.app,
    deployment: ar.deployment,
    nodeId,
    versionKey: "",
    codeVersion: "",
    state: "DRAINING",
    pid: ar.pid,
    startedAt: ar.startedAt,
    ongoing: 0,
    lastHeard: now,
    createdAt: ar.startedAt,
    stopRequestedAt: now,
    generation: ar.generation ?? 0,
  };
}

/** Handles one replica heartbeat (`hb.<app>.<deployment>.<replica>`). */
export function onReplicaHeartbeat(core: ControllerCore, body: unknown, now: number): void {
  const hb = decoded(core, "replica heartbeat", body, decodeReplicaHeartbeat);
  if (!hb) return;
  const r = core.table.get(hb.replicaId);
  // Removed (tombstoned or of a retired generation) yet still heartbeating: it must stop.
  if (!r && core.table.isTombstoned(hb.replicaId, now)) {
    if (hb.state === "RUNNING") core.fence({ ...hb, generation: hb.generation ?? 0 }, "it was removed");
    return;
  }
  if (!r) {
    if (hb.state === "RUNNING") adopt(core, hb, now);
    return;
  }
  // The same id with another generation is not this incarnation (it cannot be ours to track).
  if ((hb.generation ?? 0) !== r.generation && r.generation !== 0) {
    core.rejectMessage(
      `replica ${hb.replicaId}: heartbeat of generation ${hb.generation ?? 0}, expected ${r.generation}; ignored`,
    );
    return;
  }
  r.lastHeard = now;
  r.ongoing = hb.ongoing;
  if (typeof hb.rejectedMessages === "number") r.rejectedMessages = hb.rejectedMessages;
  if (hb.sessions !== undefined) r.sessions = hb.sessions;
  if (hb.handoffs !== undefined) r.handoffs = hb.handoffs;
  if (hb.models !== undefined) {
    const changed = modelSetChanged(r.models, hb.models);
    r.models = hb.models;
    // Handles route a model's calls to where it is: a RUNNING replica's new set is broadcast (a
    // new LRU order alone is not: routing reads the set).
    if (changed && r.state === "RUNNING") core.membershipChanged(r.app, r.deployment);
  }
  if (hb.pid) r.pid = hb.pid;
  if (hb.startedAt) r.startedAt = hb.startedAt;
  const d = core.desired.deployments.get(depKey(r.app, r.deployment));
  if (typeof hb.healthError === "string" && r.state === "RUNNING") {
    // Ray's semantics: a replica whose checkHealth() fails is replaced (stopped, not drained).
    removeReplica(core, r, `health check failed: ${hb.healthError}`, true);
    return;
  }
  switch (hb.state) {
    case "RUNNING":
      if (r.state === "STARTING") {
        r.state = "RUNNING";
        if (d) recordReady(d);
        core.membershipChanged(r.app, r.deployment);
      }
      break;
    case "DRAINING":
      if (r.state === "RUNNING" || r.state === "STARTING") {
        r.state = "DRAINING";
        core.membershipChanged(r.app, r.deployment);
      }
      break;
    case "STOPPED":
      removeReplica(core, r, "stopped", false);
      break;
    case "FAILED":
      removeReplica(core, r, "constructor failed", false);
      if (d) recordFailure(core, d, hb.error ?? "replica reported FAILED", now);
      break;
    case "STARTING":
      break;
  }
}

/** Handles an agent's report that a replica process exited (`agent.<node>.exit`). */
export function onReplicaExit(core: ControllerCore, body: unknown, now: number): void {
  const ex: ReplicaExit | undefined = decoded(core, "exit report", body, decodeReplicaExit);
  if (!ex) return;
  const r = core.table.get(ex.replicaId);
  // Only the agent that runs a replica reports its exit.
  if (r && ex.nodeId !== "" && ex.nodeId !== r.nodeId) return;
  if (!r) {
    // A replica that reported FAILED is already gone from the table; its stderr (the stack
    // trace) arrives only now, with the exit.
    const gone = typeof ex.app === "string" ? core.desired.live(ex.app, ex.deployment) : undefined;
    if (gone && ex.code !== 0 && ex.signal === null && typeof ex.stderrTail === "string")
      gone.lastErrorLog = ex.stderrTail;
    return;
  }
  const d = core.desired.deployments.get(depKey(r.app, r.deployment));
  const wasStarting = r.state === "STARTING";
  removeReplica(core, r, `process exited (code ${ex.code}, signal ${ex.signal})`, false);
  // Dying before READY is a failed start (a throwing constructor); a stop we asked for is not.
  if (wasStarting && r.stopRequestedAt === 0 && d)
    recordFailure(core, d, exitMessage(ex), now, ex.stderrTail);
}

/** Handles an agent heartbeat (`agent.<node>.hb`): the node is alive and hosts these replicas. */
export function onAgentHeartbeat(core: ControllerCore, body: unknown, now: number): void {
  const hb: AgentHeartbeat | undefined = decoded(core, "agent heartbeat", body, decodeAgentHeartbeat);
  if (!hb) return;
  let node = core.nodes.get(hb.nodeId);
  if (!node) {
    node = { nodeId: hb.nodeId, lastSeen: now, replicaIds: new Set(), rejectedMessages: 0 };
    core.nodes.set(hb.nodeId, node);
    core.log(`agent ${hb.nodeId} joined (pid ${hb.pid})`);
  }
  node.lastSeen = now;
  if (typeof hb.rejectedMessages === "number") node.rejectedMessages = hb.rejectedMessages;
  node.replicaIds = new Set(hb.replicas.map((r) => r.replicaId));
  for (const ar of hb.replicas) {
    const r = core.table.get(ar.replicaId);
    if (r && r.pid === 0) r.pid = ar.pid;
    // A replica we gave up on (its agent went silent, then came back) still runs there: stop it,
    // its replacement already serves. Repeats are harmless: a second stop never softens the first.
    const retired = !r && ar.generation !== undefined && core.generations.isRetired(ar.generation);
    if (!r && (retired || core.table.isTombstoned(ar.replicaId, now))) {
      const d = core.desired.deployments.get(depKey(ar.app, ar.deployment));
      const stale = toRecordFromAgent(hb.nodeId, ar, now);
      core.stopOnAgent(stale, true, d?.spec.config.gracefulShutdownTimeoutMs ?? 5000);
    }
  }
  if (!core.recovering) dropUnlistedStarts(core, node.nodeId, node.replicaIds, now);
}

/**
 * A STARTING replica its agent no longer lists is gone: the agent was killed after it spawned the
 * process (which dies with its parent) and came back under the same node id, so no exit is ever
 * reported and the new agent's heartbeats keep arriving. Without this, the record would wait out the
 * startup timeout (60 s by default) and then mark the deployment UNHEALTHY for a fault of the
 * machine, not of its code. A start is given the agent request's timeout to be answered (a failed
 * one is removed by the start's own error) and an agent timeout of heartbeats to be listed, so a
 * heartbeat sent before the spawn never counts.
 */
function dropUnlistedStarts(core: ControllerCore, nodeId: string, listed: Set<string>, now: number): void {
  const graceMs = core.opts.agentRequestTimeoutMs + core.opts.agentTimeoutMs;
  for (const r of core.table.onNode(nodeId)) {
    if (r.state !== "STARTING" || listed.has(r.replicaId) || now - r.createdAt <= graceMs) continue;
    removeReplica(core, r, `its agent ${nodeId} no longer runs it (the agent restarted?)`, true);
    core.log(`replica ${r.replicaId} removed while STARTING: agent ${nodeId} no longer lists it`);
  }
}

/** True when a heartbeat's models are another set than the record's. */
function modelSetChanged(had: readonly string[] | undefined, models: readonly string[]): boolean {
  return had === undefined || had.length !== models.length || models.some((m) => !had.includes(m));
}
