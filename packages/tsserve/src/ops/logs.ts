import { RequestStrategy, type NatsConnection } from "nats";
import { ControllerClient } from "@tsserve/controller";
import { ConfigError } from "@tsserve/protocol";
import {
  decode,
  encode,
  errorFromWire,
  isPlainObject,
  logQuerySubject,
  logsSubject,
  type LogLine,
  type LogQuery,
  type LogQueryReply,
} from "@tsserve/protocol/internal";
import { openConnection, type Target } from "../head/target.js";

/** How long a log query waits for agents that have not answered (when their count is unknown). */
const GATHER_MS = 1500;

/** `30s`, `5m`, `2h`, `1d` (or plain seconds) → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`invalid duration ${JSON.stringify(value)}: use e.g. 30s, 5m, 2h, 1d`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "s"] ?? 1000;
  return Math.round(Number(m[1]) * unit);
}

/** One line as `tsserve logs` and `tsserve run` print it: time, replica, text. */
export function formatLogLine(l: LogLine, withTime = true): string {
  const time = withTime ? `${new Date(l.ts).toISOString()} ` : "";
  return `${time}[${l.app}/${l.replicaId}] ${l.line}`;
}

/** How many agents the controller knows (so a query can stop once all answered); undefined if unknown. */
async function agentCount(nc: NatsConnection, prefix: string): Promise<number | undefined> {
  try {
    const ctl = new ControllerClient(nc, { prefix, timeoutMs: 2000 });
    return (await ctl.status()).nodes.length;
  } catch {
    return undefined;
  }
}

/**
 * Asks every agent (request-many on `logq`) for the tail of its replica log files and merges the
 * answers, oldest first. Agents on other machines answer like local ones: the files never move.
 */
export async function queryLogs(nc: NatsConnection, prefix: string, query: LogQuery): Promise<LogLine[]> {
  const agents = await agentCount(nc, prefix);
  const iter = await nc.requestMany(logQuerySubject(prefix), encode(query), {
    maxWait: agents === undefined ? GATHER_MS : GATHER_MS * 2,
    ...(agents === undefined || agents === 0
      ? { strategy: RequestStrategy.Timer }
      : { strategy: RequestStrategy.Count, maxMessages: agents }),
  });
  const lines: LogLine[] = [];
  for await (const msg of iter) {
    if (msg.data.length === 0) break;
    const reply = decode(msg.data);
    if (!isPlainObject(reply)) continue;
    if (reply["ok"] === false) throw errorFromWire(reply["error"]);
    lines.push(...(reply["value"] as LogQueryReply).lines);
  }
  lines.sort((a, b) => a.ts - b.ts);
  return query.limit === undefined ? lines : lines.slice(-query.limit);
}

/**
 * Calls `onLine` for every replica output line published from now on that matches the filter,
 * until `signal` aborts. Returns once subscribed (flushed), so no line published after it is lost.
 */
export async function followLogs(
  nc: NatsConnection,
  prefix: string,
  filter: Pick<LogQuery, "app" | "deployment" | "replicaId">,
  onLine: (line: LogLine) => void,
  signal?: AbortSignal,
): Promise<void> {
  const sub = nc.subscribe(logsSubject(prefix, filter.app, filter.deployment, filter.replicaId), {
    callback: (err, msg) => {
      if (err) return;
      const lines = decode(msg.data);
      if (Array.isArray(lines)) for (const l of lines as LogLine[]) onLine(l);
    },
  });
  signal?.addEventListener("abort", () => sub.unsubscribe(), { once: true });
  await nc.flush();
}

/** Opens a connection for a logs command; the caller closes it. */
export function logsConnection(target: Target): Promise<NatsConnection> {
  return openConnection(target);
}
