import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { waitUntil } from "@tsserve/test-utils";
import type { CallOutcome } from "./session-history.js";

/** What a driver process is told (JSON in its environment). */
export interface DriverConfig {
  address: string;
  prefix: string;
  app: string;
  deployment: string;
  sessions: string[];
  index: number;
  drivers: number;
  pauseMs: number;
  holdMs: number;
  timeoutMs: number;
  maxCallsPerSession: number;
  maxRunMs: number;
  /** Added to every seq, so that a later run's seqs differ from an earlier run's. */
  seqBase: number;
  /** Written once the first call is acknowledged (a driver without IPC says it is warm). */
  readyFile?: string;
  /** Stop on its own this long after the first acknowledged call (drivers without an IPC channel). */
  runMs?: number;
  outFile: string;
}

/** What a driver process reports over IPC. */
export type DriverMessage =
  | { type: "ready" }
  | { type: "progress"; sent: number; acked: number }
  | { type: "done"; sent: number; acked: number };

/** Options of {@link startSessionDrivers}. */
export interface SessionDriversOptions {
  address: string;
  prefix: string;
  app: string;
  /** @default "SessionTarget" */
  deployment?: string;
  /** Sessions `<prefix>0` … @default 300 */
  sessions?: number;
  /** @default "sess-" */
  sessionPrefix?: string;
  /** Driver processes, each with its own handle client. @default 3 */
  drivers?: number;
  /**
   * How many drivers call each session (so that handles with different membership views send
   * calls of one session during a change). @default 2
   */
  driversPerSession?: number;
  /** Pause between two calls of one loop: the load stays bounded. @default 1000 */
  pauseMs?: number;
  /** The fixture holds each call this long between read and write. @default 2 */
  holdMs?: number;
  /** @default 8000 */
  timeoutMs?: number;
  /** @default 10000 */
  maxCallsPerSession?: number;
  /** A driver exits on its own after this long whatever happens. @default 600000 */
  maxRunMs?: number;
  /** Added to every seq: a second run on the same sessions must not reuse the first run's seqs. @default 0 */
  seqBase?: number;
  /** Where each driver writes its outcomes. */
  dir: string;
}

/** Running driver processes. */
export interface SessionDrivers {
  /** Calls acknowledged so far, over every driver (from their last progress report). */
  acked(): number;
  /** Waits until `n` more calls than now have been acknowledged. */
  waitForAcked(more: number, timeoutMs?: number): Promise<void>;
  /** Stops every loop, waits for the calls in flight, returns every outcome. */
  stop(): Promise<CallOutcome[]>;
}

/** The driver process's entry (run with {@link TSX_LOADER}). */
export const SESSION_DRIVER_MAIN = fileURLToPath(new URL("./session-driver-main.ts", import.meta.url));
/** tsx's loader (`node --import <it>`), resolved from this package (the child's cwd may not see it). */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** Starts the driver processes; resolves once each has connected and started its loops. */
export async function startSessionDrivers(o: SessionDriversOptions): Promise<SessionDrivers> {
  const drivers = o.drivers ?? 3;
  const perSession = Math.min(o.driversPerSession ?? 2, drivers);
  const sessions = Array.from({ length: o.sessions ?? 300 }, (_, i) => `${o.sessionPrefix ?? "sess-"}${i}`);
  mkdirSync(o.dir, { recursive: true });
  const acked = new Array<number>(drivers).fill(0);
  const children: ChildProcess[] = [];
  const done: Promise<void>[] = [];
  const ready: Promise<void>[] = [];
  for (let index = 0; index < drivers; index++) {
    const config: DriverConfig = {
      address: o.address,
      prefix: o.prefix,
      app: o.app,
      deployment: o.deployment ?? "SessionTarget",
      // Session i is driven by drivers i, i+1, … (mod drivers).
      sessions: sessions.filter((_, i) => (index - i + drivers * perSession) % drivers < perSession),
      index,
      drivers,
      pauseMs: o.pauseMs ?? 1000,
      holdMs: o.holdMs ?? 2,
      timeoutMs: o.timeoutMs ?? 8000,
      maxCallsPerSession: o.maxCallsPerSession ?? 10_000,
      maxRunMs: o.maxRunMs ?? 600_000,
      seqBase: o.seqBase ?? 0,
      outFile: join(o.dir, `driver-${index}.jsonl`),
    };
    const child = fork(SESSION_DRIVER_MAIN, [], {
      execArgv: ["--import", TSX_LOADER],
      env: { ...process.env, SESSION_DRIVER_CONFIG: JSON.stringify(config) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    let markReady: () => void = () => undefined;
    ready.push(new Promise((r) => (markReady = r)));
    done.push(
      new Promise((resolve, reject) => {
        child.on("message", (m: DriverMessage) => {
          if (m.type === "ready") markReady();
          if (m.type === "progress" || m.type === "done") acked[index] = m.acked;
          if (m.type === "done") resolve();
        });
        child.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`session driver ${index} exited with ${code}`)),
        );
      }),
    );
  }
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  };
  const total = (): number => acked.reduce((a, b) => a + b, 0);
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(ready),
      Promise.race(done).then(() => Promise.reject(new Error("a session driver exited before it was ready"))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("session drivers not connected within 30 s")), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    kill();
    throw e;
  }
  let stopped: Promise<CallOutcome[]> | undefined;
  return {
    acked: total,
    waitForAcked: async (more, timeoutMs = 60_000) => {
      const target = total() + more;
      await waitUntil(() => total() >= target, {
        timeoutMs,
        intervalMs: 100,
        message: () => `${more} more acknowledged calls (at ${total()} of ${target})`,
      });
    },
    stop: () =>
      (stopped ??= (async () => {
        for (const c of children) c.send({ type: "stop" });
        const bound = setTimeout(kill, 60_000);
        try {
          await Promise.all(done);
        } finally {
          clearTimeout(bound);
          kill();
        }
        return children.flatMap((_, i) => readJsonl<CallOutcome>(join(o.dir, `driver-${i}.jsonl`)));
      })()),
  };
}

/** The records of a JSONL file (a torn last line, from a SIGKILL mid-write, is skipped). */
export function readJsonl<T>(file: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn line
    }
  }
  return out;
}
