import { join, resolve } from "node:path";
import { LOG_FORMAT_ENV, LOG_LEVEL_ENV, parseLogFormat, parseLogLevel } from "@tsserve/protocol/internal";

/** Where agents started from here keep replica log files (see `tsserve logs`). */
const LOG_DIR_ENV = "TSSERVE_LOG_DIR";

/**
 * `--log-level` / `--log-format` become TSSERVE_LOG_* variables before a command runs, so this
 * process and every component it starts (controller, agents, replicas, proxy) log alike; the
 * state dir's `logs/` becomes the agents' log directory unless TSSERVE_LOG_DIR says otherwise.
 */
export function applyLogFlags(
  level: string | undefined,
  format: string | undefined,
  stateDir: string | undefined,
): void {
  if (level !== undefined) process.env[LOG_LEVEL_ENV] = parseLogLevel(level);
  if (format !== undefined) process.env[LOG_FORMAT_ENV] = parseLogFormat(format);
  if (stateDir !== undefined && process.env[LOG_DIR_ENV] === undefined)
    process.env[LOG_DIR_ENV] = join(resolve(stateDir), "logs");
}
