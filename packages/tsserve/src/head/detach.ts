import { spawn } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UnavailableError } from "@tsserve/protocol";
import {
  HEAD_LOG,
  assertNoLiveHead,
  isAlive,
  readHeadRecord,
  stateDirPath,
  type HeadRecord,
} from "./state-dir.js";

/** How long `tsserve start` waits for a detached head to become ready. */
export const DETACHED_START_TIMEOUT_MS = 60_000;

const MAX_ERROR_CHARS = 300;

/** The built CLI entry, which a detached head runs as `cli.js start --foreground …`. */
export function cliEntryPath(): string {
  const here = import.meta.url;
  // From sources under a TS test loader, point at the built file: spawned processes run dist/.
  return fileURLToPath(new URL(here.endsWith(".ts") ? "../../dist/cli.js" : "../cli.js", here));
}

/** The last non-empty lines of a log, for "it died during startup" errors. */
function logTail(file: string, lines = 1): string {
  if (!existsSync(file)) return "";
  const all = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim().length > 0);
  return all.slice(-lines).join(" | ");
}

/**
 * Starts a head in the background: spawns `tsserve start --foreground <args>` in its own session
 * with output to `<state-dir>/head.log`, and resolves with its record once it wrote `head-process.json`
 * (everything answered). If it dies first, the error is the last line it logged.
 */
export async function startDetachedHead(
  stateDirFlag: string | undefined,
  foregroundArgs: string[],
  timeoutMs = DETACHED_START_TIMEOUT_MS,
): Promise<HeadRecord & { logFile: string }> {
  const stateDir = stateDirPath(stateDirFlag);
  const created = !existsSync(stateDir);
  mkdirSync(stateDir, { recursive: true });
  try {
    return await waitForHead(stateDir, foregroundArgs, timeoutMs);
  } catch (e) {
    if (!created) throw e;
    // Leave no .tsserve/ behind (later commands would find it); keep the log where the error says.
    const kept = join(tmpdir(), `tsserve-start-${process.pid}-${HEAD_LOG}`);
    const logFile = join(stateDir, HEAD_LOG);
    if (existsSync(logFile)) copyFileSync(logFile, kept);
    rmSync(stateDir, { recursive: true, force: true });
    if (e instanceof Error) e.message = e.message.replaceAll(logFile, kept);
    throw e;
  }
}

async function waitForHead(
  stateDir: string,
  foregroundArgs: string[],
  timeoutMs: number,
): Promise<HeadRecord & { logFile: string }> {
  assertNoLiveHead(stateDir);
  const logFile = join(stateDir, HEAD_LOG);
  const fd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [cliEntryPath(), "start", "--foreground", "--state-dir", stateDir, ...foregroundArgs],
    {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: process.env,
    },
  );
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new UnavailableError(`could not spawn the head process (${process.execPath})`);
  let exitCode: number | null | undefined;
  child.once("exit", (code) => (exitCode = code));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readHeadRecord(stateDir);
    if (rec !== undefined && rec.pid === pid) return { ...rec, logFile };
    if (exitCode !== undefined || !isAlive(pid)) {
      let why = logTail(logFile) || `exited with code ${exitCode ?? "unknown"}`;
      // Child errors can quote whole server logs; the first part says what failed, the log the rest.
      if (why.length > MAX_ERROR_CHARS) why = `${why.slice(0, MAX_ERROR_CHARS)}…`;
      throw new UnavailableError(`${why.replace(/^tsserve start: /, "")} (full log: ${logFile})`);
    }
    if (Date.now() > deadline) {
      process.kill(pid, "SIGTERM");
      throw new UnavailableError(
        `the head did not become ready within ${timeoutMs / 1000} s; see ${logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
