import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { PARENT_PID_ENV, parentWatchNodeArg } from "./entry-paths.js";

/** Where a managed process's stdout and stderr go. */
export type LogMode = "inherit" | "file" | "ignore";

/** Options of {@link spawnNodeProcess}. */
export interface ManagedProcessOptions {
  /** Shown in messages and used for the log file name (`<logDir>/<name>.log`). */
  name: string;
  /** The script to run with the current node binary. */
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logs: LogMode;
  /** Directory of log files when `logs` is "file". */
  logDir: string;
  /** Preload the parent watch so the process ends when we die, even by SIGKILL. */
  exitWithParent: boolean;
}

/** A node child process of a local cluster (controller or agent), stopped by pid. */
export class ManagedProcess {
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Path of its log file when logs go to a file. */
  readonly logFile: string | undefined;
  private readonly child: ChildProcess;
  private done = false;

  constructor(readonly options: ManagedProcessOptions) {
    let stdio: StdioOptions = options.logs === "inherit" ? ["ignore", "inherit", "inherit"] : "ignore";
    let fd: number | undefined;
    if (options.logs === "file") {
      mkdirSync(options.logDir, { recursive: true });
      this.logFile = join(options.logDir, `${options.name}.log`);
      fd = openSync(this.logFile, "a");
      stdio = ["ignore", fd, fd];
    }
    const nodeArgs = options.exitWithParent ? [parentWatchNodeArg()] : [];
    this.child = spawn(process.execPath, [...nodeArgs, options.entry, ...options.args], {
      stdio,
      // The child's parent-watch compares its ppid with this pid, not with whatever ppid it finds
      // at start (already 1 if this process died in between).
      env: { ...process.env, ...options.env, [PARENT_PID_ENV]: String(process.pid) },
    });
    // The child holds its own copy of the descriptor.
    if (fd !== undefined) closeSync(fd);
    this.child.on("error", (e) => process.stderr.write(`tsserve: ${options.name}: ${e.message}\n`));
    if (this.child.pid === undefined) throw new Error(`could not spawn ${options.name} (${options.entry})`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.done;
  }

  /** A line saying how it ended, for startup errors. */
  async describeExit(): Promise<string> {
    const { code, signal } = await this.exited;
    const where = this.logFile ? ` (log: ${this.logFile})` : "";
    return `${this.options.name} (pid ${this.pid}) exited with ${signal ?? `code ${code}`}${where}`;
  }

  /** SIGKILL now; resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.done) this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Waits up to `graceMs` for it to exit on its own, then SIGTERM, then SIGKILL after `termMs`. */
  async stop(graceMs: number, termMs = 5000): Promise<void> {
    if (await this.exitsWithin(graceMs)) return;
    this.child.kill("SIGTERM");
    if (await this.exitsWithin(termMs)) return;
    await this.kill();
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    if (this.done) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const result = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }
}

/** Spawns a node script as a {@link ManagedProcess}. */
export function spawnNodeProcess(options: ManagedProcessOptions): ManagedProcess {
  return new ManagedProcess(options);
}
