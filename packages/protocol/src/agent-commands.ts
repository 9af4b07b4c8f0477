import type { ReplicaSpec, StartReplicaRequest, StopReplicaRequest } from "./agent-api.js";
import { ProtocolError } from "./errors.js";
import { decodeReplicaSpec } from "./config-decode.js";
import { validateToken } from "./subjects.js";
import { describe as describeValue, isPlainObject } from "./validate.js";

/**
 * Decoders of the commands an agent receives (types in agent-api.ts). A malformed command must become a BAD_REQUEST
 * reply naming the bad field, never a crash: an agent serves every replica on its machine.
 */

function bad(op: string, field: string, expected: string, value: unknown): never {
  throw new ProtocolError(`agent ${op}: ${field}: expected ${expected}, got ${describeValue(value)}`);
}

function str(op: string, obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (typeof v !== "string" || v.length === 0) bad(op, field, "a non-empty string", v);
  return v;
}

/** An optional number >= 0 (absent → undefined). */
function optNum(op: string, obj: Record<string, unknown>, field: string): number | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) bad(op, field, "a number >= 0", v);
  return v;
}

function token(op: string, obj: Record<string, unknown>, field: string): string {
  const v = str(op, obj, field);
  try {
    return validateToken(field, v);
  } catch (e) {
    throw new ProtocolError(`agent ${op}: ${(e as Error).message}`);
  }
}

/** What the agent itself must agree with in a start command. */
export interface AgentIdentity {
  nodeId: string;
  prefix: string;
  /** The agent's own NATS address; it replaces the spec's (see {@link parseStartCommand}). */
  address: string;
}

/**
 * Validates a decoded `agent.<node>.start` body as a {@link ReplicaSpec} for this agent.
 * The spec's `address` is replaced by the agent's own: the controller's view of the NATS address
 * (e.g. 127.0.0.1 on the head) may not be reachable from this machine, the agent's is.
 */
export function parseStartCommand(body: unknown, self: AgentIdentity): StartReplicaRequest {
  const op = "start";
  if (!isPlainObject(body)) bad(op, "body", "a ReplicaSpec object", body);
  let spec: ReplicaSpec;
  try {
    spec = decodeReplicaSpec("", body);
  } catch (e) {
    throw new ProtocolError(`agent ${op}: ${(e as Error).message}`, { cause: e });
  }
  if (spec.prefix !== self.prefix)
    bad(op, "prefix", `this agent's prefix ${JSON.stringify(self.prefix)}`, spec.prefix);
  if (spec.nodeId !== self.nodeId)
    bad(op, "nodeId", `this agent's node id ${JSON.stringify(self.nodeId)}`, spec.nodeId);
  // parentPid is the agent's to set, never the sender's.
  const command: StartReplicaRequest = { ...spec, address: self.address };
  delete command.parentPid;
  const term = optNum(op, body, "term");
  if (term !== undefined) command.term = term;
  return command;
}

/** Validates a decoded `agent.<node>.stop` body. */
export function parseStopCommand(body: unknown): StopReplicaRequest {
  const op = "stop";
  if (!isPlainObject(body)) bad(op, "body", "an object { replicaId, graceful, timeoutMs }", body);
  const replicaId = token(op, body, "replicaId");
  const graceful = body["graceful"];
  if (typeof graceful !== "boolean") bad(op, "graceful", "true or false", graceful);
  const timeoutMs = body["timeoutMs"];
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    bad(op, "timeoutMs", "a number of milliseconds >= 0", timeoutMs);
  }
  const req: StopReplicaRequest = { replicaId, graceful, timeoutMs };
  const term = optNum(op, body, "term");
  if (term !== undefined) req.term = term;
  return req;
}
