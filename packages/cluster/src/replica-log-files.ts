import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import {
  MAX_LOG_LINE_CHARS,
  formatLogFileLine,
  type LogLine,
  type LogStream,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

/** Where an agent keeps replica logs unless told: `$TSSERVE_LOG_DIR`, else `.tsserve/logs`. */
export const LOG_DIR_ENV = "TSSERVE_LOG_DIR";
/** A replica's log file is rotated past this size. @default 10 MiB */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated generations kept (`.log.1` … `.log.N`). */
export const DEFAULT_LOG_KEEP = 2;

/** The agent's log directory: the option, else `$TSSERVE_LOG_DIR`, else `.tsserve/logs`. */
export function resolveLogDir(option?: string): string {
  return resolve(option ?? process.env[LOG_DIR_ENV] ?? join(".tsserve", "logs"));
}

/** `<logDir>/replicas/<app>/<deployment>/<replica>.log` */
export function replicaLogPath(logDir: string, app: string, deployment: string, replicaId: string): string {
  return join(logDir, "replicas", app, deployment, `${replicaId}.log`);
}

/**
 * One replica's output file: every stdout/stderr line gets a timestamp, the replica id and the
 * stream; the file is rotated past `maxBytes` (keeping `keep` older generations). Writes are
 * synchronous appends, so a line is on disk before the agent reports the replica's exit.
 */
export class ReplicaLogFile {
  private fd: number;
  private size: number;
  private readonly partial: Record<LogStream, string> = { stdout: "", stderr: "" };

  constructor(
    readonly path: string,
    private readonly spec: ReplicaSpec,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
    private readonly keep = DEFAULT_LOG_KEEP,
  ) {
    mkdirSync(join(path, ".."), { recursive: true });
    this.fd = openSync(path, "a");
    this.size = existsSync(path) ? statSync(path).size : 0;
  }

  /**
   * Appends a chunk of one stream; returns the complete lines it finished (for live publishing).
   * A line split across chunks is held until its newline arrives (or {@link close}).
   */
  write(stream: LogStream, chunk: Buffer | string, now = Date.now()): LogLine[] {
    const text = this.partial[stream] + (typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    const parts = text.split("\n");
    this.partial[stream] = parts.pop() ?? "";
    // An endless line without a newline is cut rather than buffered forever.
    if (this.partial[stream].length > MAX_LOG_LINE_CHARS) {
      parts.push(this.partial[stream]);
      this.partial[stream] = "";
    }
    return parts.map((line) => this.append(stream, line, now));
  }

  /** Flushes partial lines and closes the file. */
  close(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]) out.push(this.append(stream, this.partial[stream], Date.now()));
      this.partial[stream] = "";
    }
    closeSync(this.fd);
    return out;
  }

  private append(stream: LogStream, raw: string, ts: number): LogLine {
    const line = raw.replace(/\r$/, "").slice(0, MAX_LOG_LINE_CHARS);
    const data = `${formatLogFileLine(ts, this.spec.replicaId, stream, line)}\n`;
    if (this.size + data.length > this.maxBytes && this.size > 0) this.rotate();
    this.size += writeSync(this.fd, data);
    const { app, deployment, replicaId, nodeId } = this.spec;
    return { ts, app, deployment, replicaId, nodeId, stream, line };
  }

  private rotate(): void {
    closeSync(this.fd);
    for (let i = this.keep; i >= 1; i--) {
      const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i}`);
    }
    this.fd = openSync(this.path, "a");
    this.size = 0;
  }
}

/**
 * Tees a replica process's stdout and stderr into its {@link ReplicaLogFile} and hands every
 * finished line to `publish` (the agent sends them on `logs.<app>.<deployment>.<replica>`).
 * `forwardStdout` copies the raw stdout to this process's stdout, as before per-replica files
 * (stderr is forwarded by ReplicaChild, which also keeps its tail for exit reports).
 */
export function captureReplicaOutput(
  file: ReplicaLogFile,
  child: { stdout: Readable | null; stderr: Readable | null; once(ev: "close", fn: () => void): unknown },
  publish: (lines: LogLine[]) => void,
  forwardStdout: boolean,
): void {
  const on = (stream: LogStream, r: Readable | null): void => {
    r?.on("data", (d: Buffer) => {
      const lines = file.write(stream, d);
      if (lines.length > 0) publish(lines);
      if (forwardStdout && stream === "stdout") process.stdout.write(d);
    });
  };
  on("stdout", child.stdout);
  on("stderr", child.stderr);
  child.once("close", () => {
    const rest = file.close();
    if (rest.length > 0) publish(rest);
  });
}

/** Replica log files untouched this long are deleted (the files of replicas long gone). */
export const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 3600_000;

/**
 * Deletes replica log files (and emptied directories) not written for `maxAgeMs`: rotation bounds
 * each file, this bounds how many a crash-looping or often-redeployed deployment leaves behind.
 * Returns how many files it removed; errors (a file vanishing meanwhile) are skipped.
 */
export function pruneReplicaLogs(
  logDir: string,
  maxAgeMs = DEFAULT_LOG_RETENTION_MS,
  now = Date.now(),
): number {
  let removed = 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
        try {
          if (readdirSync(p).length === 0) rmdirSync(p);
        } catch {
          // Not empty after all, or gone: leave it.
        }
      } else if (/\.log(\.\d+)?$/.test(e.name)) {
        try {
          if (now - statSync(p).mtimeMs > maxAgeMs) {
            unlinkSync(p);
            removed++;
          }
        } catch {
          // Vanished meanwhile.
        }
      }
    }
  };
  walk(join(logDir, "replicas"));
  return removed;
}
