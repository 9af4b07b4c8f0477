import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@tsserve/protocol";
import { ADDRESS_FILE, HEAD_FILE } from "@tsserve/handle/internal";
import { stateDirForHead } from "./find-state-dir.js";

/**
 * The address file (one line, read by every later command and by `connect()`) and the head's
 * record (`head-process.json`: pids, ports, prefix; `head.json` in the same folder belongs to
 * startLocalCluster and has another shape) are named in @tsserve/handle, which reads them too.
 */
export { ADDRESS_FILE, HEAD_FILE, readAddressFile } from "@tsserve/handle/internal";
/** Log of a detached head (`tsserve start` without `--foreground`). */
export const HEAD_LOG = "head.log";

/** What a running head records in `<state-dir>/head-process.json`. */
export interface HeadRecord {
  /** NATS server URL(s) the cluster uses. */
  address: string;
  /** Subject prefix of the cluster. */
  prefix: string;
  /** The head process (owns the controller, agents, proxy and embedded nats-server). */
  pid: number;
  /** The embedded nats-server's pid, or null when the head joined an existing NATS. */
  natsPid: number | null;
  /** Controller and local agent process ids. */
  controllerPid: number | null;
  agentPids: number[];
  /** The HTTP proxy's URL, e.g. http://127.0.0.1:8000, or null when disabled. */
  httpUrl: string | null;
  /** The gRPC ingress's `host:port`, or null/absent when it is off. */
  grpcAddress?: string | null;
  /** The `.proto` files (absolute) the gRPC ingress serves; absent from older heads. */
  grpcProtoFiles?: string[];
  /** The dashboard's URL (also the cluster-wide /metrics), or null/absent when disabled. */
  dashboardUrl?: string | null;
  /** Epoch ms. */
  startedAt: number;
}

/**
 * Absolute state directory a head started from `cwd` writes: `--state-dir`, `$TSSERVE_STATE_DIR`,
 * else `.tsserve/` at the project root (see find-state-dir.ts for the rule).
 */
export function stateDirPath(stateDir: string | undefined, cwd = process.cwd()): string {
  return stateDirForHead(stateDir, cwd);
}

/** Reads `<dir>/head-process.json`, or undefined when there is none or it is unreadable (a crashed head). */
export function readHeadRecord(dir: string): HeadRecord | undefined {
  const file = join(dir, HEAD_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as HeadRecord;
  } catch {
    return undefined;
  }
}

/** Writes the head's files; the address file last, since its presence means "ready". */
export function writeHeadRecord(dir: string, record: HeadRecord): void {
  mkdirSync(dir, { recursive: true });
  // Write-then-rename so a concurrent reader never sees half a file.
  const tmp = join(dir, `${HEAD_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, join(dir, HEAD_FILE));
  writeFileSync(join(dir, ADDRESS_FILE), `${record.address}\n`);
}

/** Removes the head's files if they still describe process `pid` (a newer head keeps its own). */
export function clearHeadRecord(dir: string, pid: number): void {
  const rec = readHeadRecord(dir);
  if (rec !== undefined && rec.pid !== pid) return;
  rmSync(join(dir, HEAD_FILE), { force: true });
  rmSync(join(dir, ADDRESS_FILE), { force: true });
}

/** Whether a process with this pid exists (signal 0 checks without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Throws when a live head already owns `dir`; clears the files of a head that died uncleanly. */
export function assertNoLiveHead(dir: string): void {
  const rec = readHeadRecord(dir);
  if (rec === undefined) return;
  if (rec.pid !== process.pid && isAlive(rec.pid)) {
    throw new ConfigError(
      `a tsserve head is already running from ${dir} (pid ${rec.pid}, address ${rec.address}); ` +
        "stop it with `tsserve shutdown` or pick another --state-dir",
    );
  }
  clearHeadRecord(dir, rec.pid);
}
