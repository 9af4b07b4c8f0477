import type { ControllerReply, StatusReport } from "./controller-api.js";
import { ProtocolError } from "./errors.js";
import { describe, isPlainObject } from "./validate.js";
import type { WireError } from "./wire-error.js";

/**
 * Decoders of the controller's replies, beside their types (controller-api.ts): the CLI, the
 * dashboard and the proxy read `ctl.status` through {@link decodeStatusReport}.
 */

const APPLICATION_STATES = new Set(["DEPLOYING", "RUNNING", "DEPLOY_FAILED", "DELETING", "UNHEALTHY"]);
const DEPLOYMENT_STATES = new Set(["HEALTHY", "UPDATING", "UNHEALTHY"]);
const REPLICA_STATES = new Set(["STARTING", "RUNNING", "DRAINING", "STOPPED"]);

type Check = (path: string, v: unknown) => void;

function bad(path: string, expected: string, value: unknown): never {
  throw new ProtocolError(`status report: ${path}: expected ${expected}, got ${describe(value)}`);
}

const str: Check = (p, v) => {
  if (typeof v !== "string") bad(p, "a string", v);
};
const num: Check = (p, v) => {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) bad(p, "a number >= 0", v);
};
const bool: Check = (p, v) => {
  if (typeof v !== "boolean") bad(p, "true or false", v);
};
const oneOf =
  (states: ReadonlySet<string>): Check =>
  (p, v) => {
    if (typeof v !== "string" || !states.has(v)) bad(p, [...states].join(" | "), v);
  };
const optional =
  (check: Check): Check =>
  (p, v) => {
    if (v !== undefined) check(p, v);
  };
const nullOr =
  (check: Check): Check =>
  (p, v) => {
    if (v !== null) check(p, v);
  };

/** An object whose listed fields pass their checks (other fields pass through, for the printers). */
function shape(fields: Record<string, Check>): Check {
  return (p, v) => {
    if (!isPlainObject(v)) bad(p, "an object", v);
    for (const [f, check] of Object.entries(fields)) check(p === "" ? f : `${p}.${f}`, v[f]);
  };
}

function list(item: Check): Check {
  return (p, v) => {
    if (!Array.isArray(v)) bad(p, "an array", v);
    v.forEach((x, i) => item(`${p}[${i}]`, x));
  };
}

const replica = shape({
  replicaId: str,
  nodeId: str,
  state: oneOf(REPLICA_STATES),
  ongoing: num,
  startedAt: num,
  pid: num,
  rejectedMessages: optional(num),
  codeVersion: optional(str),
  restarts: optional(num),
  sessions: optional(num),
  handoffs: optional(num),
  models: optional(list(str)),
});

const deployment = shape({
  name: str,
  status: oneOf(DEPLOYMENT_STATES),
  message: str,
  targetReplicas: num,
  replicas: list(replica),
  restarts: optional(num),
  lastError: optional(str),
  lastErrorLog: optional(str),
  router: optional(shape({ class: str, kwargs: shape({}) })),
});

const application = shape({
  name: str,
  status: optional(oneOf(APPLICATION_STATES)),
  message: optional(str),
  routePrefix: nullOr(str),
  ingress: str,
  deployments: list(deployment),
});

const report = shape({
  applications: list(application),
  nodes: list(shape({ nodeId: str, replicas: num, lastSeen: num, rejectedMessages: optional(num) })),
  controller: optional(shape({ rejectedMessages: num, id: optional(str), recovering: optional(bool) })),
});

/**
 * Any `ctl.<op>` reply: `{ ok: true, value }` or `{ ok: false, error }` (the error is read by
 * `errorFromWire`, which accepts anything). `what` names the request in the message.
 */
export function decodeControllerReply(what: string, v: unknown): ControllerReply<unknown> {
  if (!isPlainObject(v) || typeof v["ok"] !== "boolean") {
    throw new ProtocolError(`${what}: malformed reply (expected { ok, value | error }), got ${describe(v)}`);
  }
  return v["ok"] ? { ok: true, value: v["value"] } : { ok: false, error: v["error"] as WireError };
}

/**
 * `ctl.status`'s value: every field its type names has that type, or a ProtocolError names the
 * field (`status report: applications[0].ingress: expected a string, got 7`). The report is for
 * display, so fields a newer controller adds pass through to the printers unchecked.
 */
export function decodeStatusReport(v: unknown): StatusReport {
  report("", v);
  return v as StatusReport;
}
