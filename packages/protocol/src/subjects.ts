import { ConfigError } from "./errors.js";

/** Default subject prefix (namespace). Two tsserve clusters on one NATS use different prefixes. */
export const DEFAULT_PREFIX = "tsserve";

/**
 * Subject verbs. Subjects form a hierarchy that can be narrowed with wildcards:
 * `<prefix>.<verb>[.<app>[.<deployment>[.<replica>]]]`.
 */
export const VERBS = {
  /** Data plane: a call to one replica. `req.<app>.<deployment>.<replica>` */
  request: "req",
  /** Data plane: a queue-length probe of one replica. `probe.<app>.<deployment>.<replica>` */
  probe: "probe",
  /** Data plane: stream credit from a consumer. `credit.<app>.<deployment>.<replica>.<stream>` */
  credit: "credit",
  /** Control plane: replica heartbeats and state reports. `hb.<app>.<deployment>.<replica>` */
  heartbeat: "hb",
  /** Control plane: RUNNING-set broadcasts. `members.<app>.<deployment>` */
  members: "members",
  /** Control plane: handle metrics for autoscaling. `hmetrics.<app>.<deployment>` */
  handleMetrics: "hmetrics",
  /** Control plane: requests to the controller. `ctl.<op>` */
  controller: "ctl",
  /** Control plane: commands to and reports from agents. `agent.<nodeId>.<op>` */
  agent: "agent",
  /** Operations: live replica output lines, published by agents. `logs.<app>.<deployment>.<replica>` */
  logs: "logs",
  /** Operations: log-tail queries every agent answers (request-many). `logq` */
  logQuery: "logq",
  /** Operations: metrics collection every component answers (request-many). `metrics` */
  metrics: "metrics",
  /** Control plane: fencing orders to one replica. `rctl.<app>.<deployment>.<replica>` */
  replicaControl: "rctl",
  /**
   * Data plane: a session call forwarded by a replica that does not own the session to the one
   * that does (the original reply subject kept). `sfwd.<app>.<deployment>.<replica>`
   */
  sessionForward: "sfwd",
  /** Data plane: "hand session X off to me", replica to replica. `shand.<app>.<deployment>.<replica>` */
  sessionHandoff: "shand",
} as const;

export type Verb = (typeof VERBS)[keyof typeof VERBS];

// A token may not contain separators, wildcards or whitespace, and may not be empty.
const TOKEN = /^[A-Za-z0-9_\-:@+=~]+$/;

/** Throws a ConfigError naming the field when `value` cannot be one subject token. */
export function validateToken(field: string, value: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new ConfigError(
      `invalid ${field} ${JSON.stringify(value)}: use letters, digits and _ - : @ + = ~ (no dots, spaces or wildcards)`,
    );
  }
  return value;
}

/** Validates a prefix: one or more tokens joined by dots. */
export function validatePrefix(prefix: string): string {
  if (typeof prefix !== "string" || prefix.length === 0)
    throw new ConfigError(`invalid subject prefix ${JSON.stringify(prefix)}`);
  for (const part of prefix.split(".")) validateToken("subject prefix", part);
  return prefix;
}

/**
 * The one function that builds subjects. `tokens` are validated; pass `"*"` or `">"` only through
 * {@link subjectPattern}.
 */
export function subject(prefix: string, verb: Verb, ...tokens: string[]): string {
  let s = `${prefix}.${verb}`;
  for (const t of tokens) s += `.${validateToken("subject token", t)}`;
  return s;
}

/** Like {@link subject} but the last token may be a wildcard, for subscriptions. */
export function subjectPattern(prefix: string, verb: Verb, ...tokens: string[]): string {
  const last = tokens.at(-1);
  if (last === "*" || last === ">") return `${subject(prefix, verb, ...tokens.slice(0, -1))}.${last}`;
  return subject(prefix, verb, ...tokens);
}

export const requestSubject = (prefix: string, app: string, deployment: string, replicaId: string): string =>
  subject(prefix, VERBS.request, app, deployment, replicaId);
export const probeSubject = (prefix: string, app: string, deployment: string, replicaId: string): string =>
  subject(prefix, VERBS.probe, app, deployment, replicaId);
/** The credit subject of one stream a replica serves; `stream` is the replica's own counter. */
export const creditSubject = (
  prefix: string,
  app: string,
  deployment: string,
  replicaId: string,
  stream: string,
): string => subject(prefix, VERBS.credit, app, deployment, replicaId, stream);
/** What a replica subscribes to hear the credit of all its streams. */
export const creditPattern = (prefix: string, app: string, deployment: string, replicaId: string): string =>
  subjectPattern(prefix, VERBS.credit, app, deployment, replicaId, "*");
export const heartbeatSubject = (
  prefix: string,
  app: string,
  deployment: string,
  replicaId: string,
): string => subject(prefix, VERBS.heartbeat, app, deployment, replicaId);
export const membersSubject = (prefix: string, app: string, deployment: string): string =>
  subject(prefix, VERBS.members, app, deployment);
export const handleMetricsSubject = (prefix: string, app: string, deployment: string): string =>
  subject(prefix, VERBS.handleMetrics, app, deployment);
/** `rctl.<app>.<deployment>.<replica>`: a replica's own stop subject (see ReplicaFence). */
export const replicaControlSubject = (
  prefix: string,
  app: string,
  deployment: string,
  replicaId: string,
): string => subject(prefix, VERBS.replicaControl, app, deployment, replicaId);
/** `ctl.<op>`: deploy, delete, status, members, shutdown … */
export const controllerSubject = (prefix: string, op: string): string =>
  subject(prefix, VERBS.controller, op);
/** `agent.<nodeId>.<op>` */
export const agentSubject = (prefix: string, nodeId: string, op: string): string =>
  subject(prefix, VERBS.agent, nodeId, op);
/** `agent.*.<op>`: what the controller subscribes to hear every agent. */
export const agentPattern = (prefix: string, op: string): string =>
  `${subject(prefix, VERBS.agent)}.*.${validateToken("agent op", op)}`;
/** `sfwd.<app>.<deployment>.<replica>`: session calls forwarded to their owner (see VERBS). */
export const sessionForwardSubject = (
  prefix: string,
  app: string,
  deployment: string,
  replicaId: string,
): string => subject(prefix, VERBS.sessionForward, app, deployment, replicaId);
/** `shand.<app>.<deployment>.<replica>`: hand-off requests to a session's current owner. */
export const sessionHandoffSubject = (
  prefix: string,
  app: string,
  deployment: string,
  replicaId: string,
): string => subject(prefix, VERBS.sessionHandoff, app, deployment, replicaId);
