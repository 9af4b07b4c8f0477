import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** Repository root (tests run the CLI from here, as a user following the README would). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The built CLI; tests run what users run. */
export const CLI = join(ROOT, "packages/tsserve/dist/cli.js");

/** What one CLI run printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment without the variables that would redirect the CLI to another cluster. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [
    "TSSERVE_ADDRESS",
    "TSSERVE_PREFIX",
    "TSSERVE_HTTP_PORT",
    "TSSERVE_NATS_PORT",
    "TSSERVE_DEBUG",
    "TSSERVE_STATE_DIR",
  ])
    delete env[k];
  return { ...env, ...extra };
}

/** Runs `node dist/cli.js ...args` to completion (bounded by `timeoutMs`). */
export function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? ROOT, env: options.env ?? cleanEnv(), timeout: options.timeoutMs ?? 90_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        res({ code, stdout, stderr });
      },
    );
  });
}

/** Asserts a failed run: non-zero exit, exactly one stderr line naming the command, no stack trace. */
export function expectOneLineError(run: CliRun, command: string, pattern: RegExp): void {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).not.toBe(0);
  const lines = run.stderr.split("\n").filter((l) => l.length > 0);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^tsserve ${command}: `));
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** The pids a head recorded, read before shutdown so cleanup can stop leftovers by pid. */
export function headPids(stateDir: string): number[] {
  const file = join(stateDir, "head-process.json");
  if (!existsSync(file)) return [];
  const rec = JSON.parse(readFileSync(file, "utf8")) as {
    pid: number;
    natsPid: number | null;
    controllerPid: number | null;
    agentPids: number[];
  };
  return [rec.pid, rec.controllerPid, ...rec.agentPids, rec.natsPid].filter(
    (p): p is number => typeof p === "number",
  );
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM then SIGKILL the given pids (only processes this test started). */
export async function stopPids(pids: number[]): Promise<void> {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
}
