import { ProtocolError } from "./errors.js";
import { subject, validateToken, VERBS } from "./subjects.js";
import { isPlainObject } from "./validate.js";

/**
 * Replica output, as agents keep it: one file per replica under
 * `<state-dir>/logs/replicas/<app>/<deployment>/<replica>.log` (rotated), each line
 * `<ISO time> <replica id> <stdout|stderr> <text>`; live lines are published on
 * `logs.<app>.<deployment>.<replica>` and tails are served on `logq` by every agent.
 */

/** Which stream of the replica process a line came from. */
export type LogStream = "stdout" | "stderr";

/** One line of replica output. */
export interface LogLine {
  /** Epoch ms the agent read it. */
  ts: number;
  app: string;
  deployment: string;
  replicaId: string;
  nodeId: string;
  stream: LogStream;
  line: string;
}

/** A `logq` request: every filter is optional; lines come back oldest first. */
export interface LogQuery {
  app?: string;
  deployment?: string;
  replicaId?: string;
  /** Only lines at or after this epoch ms. */
  sinceMs?: number;
  /** At most this many lines per agent (the newest). @default 200 */
  limit?: number;
}

/** An agent's answer to a {@link LogQuery}. */
export interface LogQueryReply {
  nodeId: string;
  lines: LogLine[];
}

/** Largest `limit` an agent honours; replies stay well under NATS's 1 MB max_payload. */
export const MAX_LOG_QUERY_LINES = 5000;
/** Characters of one line kept in replies and live messages. */
export const MAX_LOG_LINE_CHARS = 4096;

/** `logs.<app>.<deployment>.<replica>`, or a pattern with `*` / `>` for subscriptions. */
export function logsSubject(prefix: string, app = "*", deployment = "*", replicaId = "*"): string {
  const tok = (t: string): string => (t === "*" ? t : validateToken("subject token", t));
  return `${subject(prefix, VERBS.logs)}.${tok(app)}.${tok(deployment)}.${tok(replicaId)}`;
}

/** `logq`: the subject every agent answers log-tail queries on. */
export const logQuerySubject = (prefix: string): string => subject(prefix, VERBS.logQuery);

/** Formats a line for a replica log file (no trailing newline). */
export function formatLogFileLine(ts: number, replicaId: string, stream: LogStream, text: string): string {
  return `${new Date(ts).toISOString()} ${replicaId} ${stream} ${text}`;
}

/** Parses a line of a replica log file; undefined for anything else. */
export function parseLogFileLine(
  raw: string,
): { ts: number; replicaId: string; stream: LogStream; line: string } | undefined {
  const a = raw.indexOf(" ");
  const b = raw.indexOf(" ", a + 1);
  const c = raw.indexOf(" ", b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const ts = Date.parse(raw.slice(0, a));
  const stream = raw.slice(b + 1, c);
  if (!Number.isFinite(ts) || (stream !== "stdout" && stream !== "stderr")) return undefined;
  return { ts, replicaId: raw.slice(a + 1, b), stream, line: raw.slice(c + 1) };
}

/** Checks a decoded {@link LogQuery}; a bad field is a ProtocolError (BAD_REQUEST). */
export function parseLogQuery(v: unknown): LogQuery {
  if (!isPlainObject(v)) throw new ProtocolError("log query: expected an object");
  const q: LogQuery = {};
  for (const k of ["app", "deployment", "replicaId"] as const) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== "string") throw new ProtocolError(`log query: ${k} must be a string`);
    q[k] = x;
  }
  const since = v["sinceMs"];
  if (since !== undefined && since !== null) {
    if (typeof since !== "number" || !Number.isFinite(since))
      throw new ProtocolError("log query: sinceMs must be a number");
    q.sinceMs = since;
  }
  const limit = v["limit"];
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1)
      throw new ProtocolError("log query: limit must be an integer >= 1");
    q.limit = Math.min(limit, MAX_LOG_QUERY_LINES);
  }
  return q;
}
