import {
  isPlainObject,
  type AgentHeartbeat,
  type AgentReplica,
  type ReplicaExit,
  type ReplicaHeartbeat,
} from "@tsserve/protocol";
import type { ControllerCore } from "./core.js";
import { recordFailure, recordReady, removeReplica } from "./health-monitor.js";
import { depKey, type ReplicaRecord } from "./types.js";

/**
 * Turns what replicas and agents report into replica state transitions:
 * STARTING → RUNNING (READY) → DRAINING → gone, or FAILED / exited → gone (and counted).
 * Malformed messages are logged and dropped; they never throw into the subscription loop.
 */

const REPLICA_STATES = new Set(["STARTING", "RUNNING", "DRAINING", "STOPPED", "FAILED"]);

function isReplicaHeartbeat(v: unknown): v is ReplicaHeartbeat {
  return (
    isPlainObject(v) &&
    typeof v["replicaId"] === "string" &&
    typeof v["app"] === "string" &&
    typeof v["deployment"] === "string" &&
    typeof v["nodeId"] === "string" &&
    typeof v["state"] === "string" &&
    REPLICA_STATES.has(v["state"]) &&
    typeof v["ongoing"] === "number"
  );
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

/** Adopts a replica the controller did not start (or forgot): after a restart, or a checkpoint gap. */
function adopt(core: ControllerCore, hb: ReplicaHeartbeat, now: number): void {
  const d = core.desired.live(hb.app, hb.deployment);
  if (!d) {
    // A replica of nothing we serve (its app was deleted while we were down): stop it.
    if (!core.recovering && hb.state === "RUNNING" && core.nodes.has(hb.nodeId)) {
      core.log(
        `stopping orphan replica ${hb.replicaId} of unknown deployment ${depKey(hb.app, hb.deployment)}`,
      );
      core.stopOnAgent(toRecord(hb, "orphan", now), true, 5000);
      core.table.remove(hb.replicaId, now);
    }
    return;
  }
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
  };
}

/** Handles one replica heartbeat (`hb.<app>.<deployment>.<replica>`). */
export function onReplicaHeartbeat(core: ControllerCore, body: unknown, now: number): void {
  if (!isReplicaHeartbeat(body)) {
    core.rejectMessage(`dropping malformed replica heartbeat: ${JSON.stringify(body)?.slice(0, 200)}`);
    return;
  }
  const hb = body;
  if (core.table.isTombstoned(hb.replicaId, now)) return;
  const r = core.table.get(hb.replicaId);
  if (!r) {
    if (hb.state === "RUNNING") adopt(core, hb, now);
    return;
  }
  r.lastHeard = now;
  r.ongoing = hb.ongoing;
  if (typeof hb.rejectedMessages === "number") r.rejectedMessages = hb.rejectedMessages;
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
  if (!isPlainObject(body) || typeof body["replicaId"] !== "string") {
    core.rejectMessage(`dropping malformed exit report: ${JSON.stringify(body)?.slice(0, 200)}`);
    return;
  }
  const ex = body as unknown as ReplicaExit;
  const r = core.table.get(ex.replicaId);
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
  if (!isPlainObject(body) || typeof body["nodeId"] !== "string" || !Array.isArray(body["replicas"])) {
    core.rejectMessage(`dropping malformed agent heartbeat: ${JSON.stringify(body)?.slice(0, 200)}`);
    return;
  }
  const hb = body as unknown as AgentHeartbeat;
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
    if (!r && core.table.isTombstoned(ar.replicaId, now)) {
      const d = core.desired.deployments.get(depKey(ar.app, ar.deployment));
      const stale = toRecordFromAgent(hb.nodeId, ar, now);
      core.stopOnAgent(stale, true, d?.spec.config.gracefulShutdownTimeoutMs ?? 5000);
    }
  }
}
