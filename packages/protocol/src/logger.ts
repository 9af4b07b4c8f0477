import { pino, type Logger, type LevelWithSilent } from "pino";
import { ConfigError } from "./errors.js";

/**
 * Structured logging for every tsserve component (pino). The level and format come from the
 * environment, which the CLI's `--log-level` / `--log-format` set before any child starts, so the
 * controller, agents, replicas and the proxy all log the same way.
 */

/** `trace | debug | info | warn | error | fatal | silent`. @default "info" */
export const LOG_LEVEL_ENV = "TSSERVE_LOG_LEVEL";
/** `text` (one human line) or `json` (one pino object per line). @default "text" */
export const LOG_FORMAT_ENV = "TSSERVE_LOG_FORMAT";
/**
 * Set to "1" (`tsserve start --access-log`) for one info line per finished request: by each replica
 * and by the proxy, for every HTTP request and gRPC call.
 */
export const ACCESS_LOG_ENV = "TSSERVE_ACCESS_LOG";
/**
 * Set to "0" to leave the time out of every line: an agent sets it for its replicas, whose output
 * it writes to log files that stamp each line already (one timestamp per line).
 */
export const LOG_TIME_ENV = "TSSERVE_LOG_TIME";

export type LogFormat = "text" | "json";
export type { Logger };

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** Validates a `--log-level` value. */
export function parseLogLevel(value: string): LevelWithSilent {
  if (!(LEVELS as readonly string[]).includes(value))
    throw new ConfigError(`invalid log level ${JSON.stringify(value)}: use one of ${LEVELS.join(", ")}`);
  return value as LevelWithSilent;
}

/** Validates a `--log-format` value. */
export function parseLogFormat(value: string): LogFormat {
  if (value !== "text" && value !== "json")
    throw new ConfigError(`invalid log format ${JSON.stringify(value)}: use text or json`);
  return value;
}

// Fields every line has; the rest are printed as key=value in the text format (a `stack` goes on
// the lines below, as Node prints it).
const BASE_KEYS = new Set(["level", "time", "msg", "pid", "hostname", "component", "stack"]);

/**
 * Renders one pino JSON line as `2026-01-01T00:00:00.000Z INFO  [component] msg key=value` (no time
 * when the line has none), followed by its `stack` field's lines, if any.
 */
export function formatTextLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o["time"] === "number" ? `${new Date(o["time"]).toISOString()} ` : "";
  const level = (LEVEL_NAMES[o["level"] as number] ?? String(o["level"])).padEnd(5);
  const extra = Object.entries(o)
    .filter(([k]) => !BASE_KEYS.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const msg = typeof o["msg"] === "string" ? o["msg"] : "";
  const stack = typeof o["stack"] === "string" ? `\n${o["stack"]}` : "";
  return `${time}${level} [${String(o["component"] ?? "tsserve")}] ${msg}${extra ? ` ${extra}` : ""}${stack}\n`;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** @default $TSSERVE_LOG_LEVEL, else "info" */
  level?: string;
  /** @default $TSSERVE_LOG_FORMAT, else "text" */
  format?: string;
  /** Where lines go. @default process.stderr (stdout stays for command output) */
  write?: (line: string) => void;
}

/**
 * A pino logger for one component (`controller`, `agent`, `replica`, `proxy`, `head`), with
 * `bindings` (e.g. `{ replica: id }`) on every line. Synchronous writes: a component that crashes
 * keeps its last lines, which is what its stderr tail is for.
 */
export function createLogger(
  component: string,
  bindings: Record<string, unknown> = {},
  options: CreateLoggerOptions = {},
): Logger {
  const level = parseLogLevel(options.level ?? process.env[LOG_LEVEL_ENV] ?? "info");
  const format = parseLogFormat(options.format ?? process.env[LOG_FORMAT_ENV] ?? "text");
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const dest = { write: format === "json" ? write : (line: string) => write(formatTextLine(line)) };
  const timestamp = process.env[LOG_TIME_ENV] !== "0";
  return pino({ level, timestamp, base: { component, pid: process.pid, ...bindings } }, dest);
}
