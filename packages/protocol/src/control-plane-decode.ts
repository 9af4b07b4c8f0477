import type {
  MembershipSnapshot,
  ReplicaFence,
  ReplicaHeartbeat,
  ReplicaInfo,
  ReplicaState,
} from "./control-plane.js";
import { decodeModelIds } from "./multiplexed.js";
import type { AgentHeartbeat, AgentReplica, ReplicaExit } from "./agent-api.js";
import { decodeRoutingConfig } from "./config-decode.js";
import { ProtocolError } from "./errors.js";
import { describe, isPlainObject } from "./validate.js";

/**
 * Decoders of the control-plane messages that cross the wire, beside their types: each takes the
 * msgpack-decoded body and returns the typed message or throws a ProtocolError naming the field.
 * Every receiver (controller, agent, replica) decodes with these, so the rules are written once.
 */

const REPLICA_STATES: ReadonlySet<string> = new Set<ReplicaState | "FAILED">([
  "STARTING",
  "RUNNING",
  "DRAINING",
  "STOPPED",
  "FAILED",
]);

/**
 * Membership versions come from the controller's clock (`max(last + 1, Date.now())`); one further
 * ahead than this is forged or corrupt and would pin a receiver to that set forever.
 */
export const MAX_MEMBERSHIP_VERSION_AHEAD_MS = 10 * 60_000;

function bad(what: string, field: string, expected: string, value: unknown): never {
  throw new ProtocolError(`${what}: ${field}: expected ${expected}, got ${describe(value)}`);
}

function obj(what: string, v: unknown): Record<string, unknown> {
  if (!isPlainObject(v)) bad(what, "body", "an object", v);
  return v;
}

function str(what: string, o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== "string" || v.length === 0) bad(what, field, "a non-empty string", v);
  return v;
}

function num(what: string, o: Record<string, unknown>, field: string, optional = false): number {
  const v = o[field];
  if (optional && v === undefined) return 0;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) bad(what, field, "a number >= 0", v);
  return v;
}

/** `hb.<app>.<deployment>.<replica>`: a replica's state report. */
export function decodeReplicaHeartbeat(v: unknown): ReplicaHeartbeat {
  const what = "replica heartbeat";
  const o = obj(what, v);
  const state = o["state"];
  if (typeof state !== "string" || !REPLICA_STATES.has(state))
    bad(what, "state", [...REPLICA_STATES].join(" | "), state);
  const hb: ReplicaHeartbeat = {
    replicaId: str(what, o, "replicaId"),
    app: str(what, o, "app"),
    deployment: str(what, o, "deployment"),
    nodeId: str(what, o, "nodeId"),
    state: state as ReplicaHeartbeat["state"],
    ongoing: num(what, o, "ongoing"),
    pid: num(what, o, "pid", true),
    startedAt: num(what, o, "startedAt", true),
    codeVersion: typeof o["codeVersion"] === "string" ? o["codeVersion"] : "",
    generation: num(what, o, "generation", true),
  };
  if (typeof o["error"] === "string") hb.error = o["error"];
  if (typeof o["rejectedMessages"] === "number") hb.rejectedMessages = o["rejectedMessages"];
  if (typeof o["sessions"] === "number" && o["sessions"] >= 0) hb.sessions = o["sessions"];
  if (typeof o["handoffs"] === "number" && o["handoffs"] >= 0) hb.handoffs = o["handoffs"];
  // Bounded: it is shown in status and logs.
  if (typeof o["healthError"] === "string") hb.healthError = o["healthError"].slice(0, 4096);
  if (o["models"] !== undefined) hb.models = decodeModelIds(what, o["models"]);
  return hb;
}

function decodeAgentReplica(what: string, v: unknown): AgentReplica {
  const o = obj(what, v);
  return {
    replicaId: str(what, o, "replicaId"),
    app: str(what, o, "app"),
    deployment: str(what, o, "deployment"),
    pid: num(what, o, "pid", true),
    startedAt: num(what, o, "startedAt", true),
    generation: num(what, o, "generation", true),
  };
}

/** `agent.<node>.hb`: an agent is alive and runs these replicas. */
export function decodeAgentHeartbeat(v: unknown): AgentHeartbeat {
  const what = "agent heartbeat";
  const o = obj(what, v);
  const replicas = o["replicas"];
  if (!Array.isArray(replicas)) bad(what, "replicas", "an array", replicas);
  const hb: AgentHeartbeat = {
    nodeId: str(what, o, "nodeId"),
    pid: num(what, o, "pid", true),
    hostname: typeof o["hostname"] === "string" ? o["hostname"] : "",
    startedAt: num(what, o, "startedAt", true),
    replicas: replicas.map((r) => decodeAgentReplica(`${what} replica`, r)),
    term: num(what, o, "term", true),
  };
  if (typeof o["rejectedMessages"] === "number") hb.rejectedMessages = o["rejectedMessages"];
  return hb;
}

/** `agent.<node>.exit`: a replica process exited. */
export function decodeReplicaExit(v: unknown): ReplicaExit {
  const what = "exit report";
  const o = obj(what, v);
  const code = o["code"];
  const signal = o["signal"];
  return {
    nodeId: typeof o["nodeId"] === "string" ? o["nodeId"] : "",
    replicaId: str(what, o, "replicaId"),
    app: typeof o["app"] === "string" ? o["app"] : "",
    deployment: typeof o["deployment"] === "string" ? o["deployment"] : "",
    code: typeof code === "number" ? code : null,
    signal: typeof signal === "string" ? signal : null,
    stderrTail: typeof o["stderrTail"] === "string" ? o["stderrTail"] : "",
  };
}

/** `rctl.<app>.<deployment>.<replica>`: the controller's stop order to one replica. */
export function decodeReplicaFence(v: unknown): ReplicaFence {
  const what = "replica fence";
  const o = obj(what, v);
  return {
    replicaId: str(what, o, "replicaId"),
    generation: num(what, o, "generation", true),
    reason: typeof o["reason"] === "string" ? o["reason"] : "",
  };
}

/**
 * `members.<app>.<deployment>`: a RUNNING set. Versions more than
 * {@link MAX_MEMBERSHIP_VERSION_AHEAD_MS} ahead of `now` are refused.
 */
export function decodeMembershipSnapshot(v: unknown, now = Date.now()): MembershipSnapshot {
  const what = "membership snapshot";
  const o = obj(what, v);
  const version = o["version"];
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0)
    bad(what, "version", "a safe integer >= 0", version);
  if (version > now + MAX_MEMBERSHIP_VERSION_AHEAD_MS)
    bad(what, "version", `at most ${MAX_MEMBERSHIP_VERSION_AHEAD_MS} ms ahead of now`, version);
  const replicas = o["replicas"];
  if (!Array.isArray(replicas)) bad(what, "replicas", "an array", replicas);
  const retired = o["retired"];
  if (retired !== undefined && typeof retired !== "boolean") bad(what, "retired", "true or false", retired);
  let config: MembershipSnapshot["config"];
  try {
    config = decodeRoutingConfig("config", o["config"]);
  } catch (e) {
    throw new ProtocolError(`${what}: ${(e as Error).message}`, { cause: e });
  }
  const snap: MembershipSnapshot = {
    app: str(what, o, "app"),
    deployment: str(what, o, "deployment"),
    version,
    replicas: replicas.map((r) => {
      const ro = obj(`${what} replica`, r);
      const info: ReplicaInfo = { replicaId: str(what, ro, "replicaId"), nodeId: str(what, ro, "nodeId") };
      if (ro["models"] !== undefined) info.models = decodeModelIds(what, ro["models"]);
      return info;
    }),
    config,
  };
  if (retired === true) snap.retired = true;
  return snap;
}
