import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection, Subscription } from "nats";
import {
  MAX_LOG_LINE_CHARS,
  decode,
  encode,
  errorToWire,
  logQuerySubject,
  parseLogFileLine,
  parseLogQuery,
  type ControllerReply,
  type LogLine,
  type LogQuery,
  type LogQueryReply,
} from "@tsserve/protocol/internal";
import { pruneReplicaLogs } from "./replica-log-files.js";

/** Lines an agent returns per query unless the query says otherwise. */
export const DEFAULT_LOG_QUERY_LIMIT = 200;
/** Bytes read from the end of one log file per query: bounds the work a query can cause. */
const READ_WINDOW_BYTES = 2 * 1024 * 1024;
/** Keeps a reply below NATS's default 1 MB max_payload. */
const REPLY_BUDGET_CHARS = 700 * 1024;

const dirs = (p: string): string[] =>
  existsSync(p)
    ? readdirSync(p, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];

/** The last `READ_WINDOW_BYTES` of a file, cut at the first whole line. */
function readTail(path: string): string[] {
  const size = statSync(path).size;
  const start = Math.max(0, size - READ_WINDOW_BYTES);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString("utf8").split("\n");
  if (start > 0) lines.shift();
  return lines.filter((l) => l.length > 0);
}

/**
 * Answers a {@link LogQuery} from the replica log files under `logDir` (every replica this agent
 * ever ran, exited ones included: a crash's output is what users look for). Oldest first, the
 * newest `limit` lines across the matching replicas.
 */
export function queryLogFiles(logDir: string, nodeId: string, q: LogQuery): LogLine[] {
  const root = join(logDir, "replicas");
  const limit = q.limit ?? DEFAULT_LOG_QUERY_LIMIT;
  const out: LogLine[] = [];
  for (const app of q.app ? [q.app] : dirs(root)) {
    for (const deployment of q.deployment ? [q.deployment] : dirs(join(root, app))) {
      const dir = join(root, app, deployment);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const m = /^(.+)\.log$/.exec(name);
        if (!m || (q.replicaId && m[1] !== q.replicaId)) continue;
        const path = join(dir, name);
        // The newest generation first; an older one only when this one starts after sinceMs.
        for (const file of [path, `${path}.1`]) {
          if (!existsSync(file)) continue;
          const parsed = readTail(file)
            .map(parseLogFileLine)
            .filter((l): l is NonNullable<typeof l> => l !== undefined);
          for (const l of parsed)
            if (q.sinceMs === undefined || l.ts >= q.sinceMs) out.push({ ...l, app, deployment, nodeId });
          if (parsed.length >= limit || (parsed[0] && q.sinceMs !== undefined && parsed[0].ts < q.sinceMs))
            break;
        }
      }
    }
  }
  out.sort((a, b) => a.ts - b.ts);
  let lines = out.slice(-limit);
  let chars = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    chars += Math.min(lines[i]!.line.length, MAX_LOG_LINE_CHARS) + 100;
    if (chars > REPLY_BUDGET_CHARS) {
      lines = lines.slice(i + 1);
      break;
    }
  }
  return lines;
}

/** How often an agent deletes replica log files past their retention. */
const PRUNE_EVERY_MS = 3600_000;

/**
 * Subscribes an agent to `logq` (every agent answers, so a client gathers all with request-many),
 * and prunes its old replica log files now and hourly while the connection is open.
 */
export function serveLogTails(
  nc: NatsConnection,
  prefix: string,
  nodeId: string,
  logDir: string,
): Subscription {
  pruneReplicaLogs(logDir);
  const prune = setInterval(() => pruneReplicaLogs(logDir), PRUNE_EVERY_MS);
  prune.unref();
  void nc.closed().then(() => clearInterval(prune));
  return nc.subscribe(logQuerySubject(prefix), {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      let reply: ControllerReply<LogQueryReply>;
      try {
        const q = parseLogQuery(decode(msg.data));
        reply = { ok: true, value: { nodeId, lines: queryLogFiles(logDir, nodeId, q) } };
      } catch (e) {
        reply = { ok: false, error: errorToWire(e) };
      }
      msg.respond(encode(reply));
    },
  });
}
