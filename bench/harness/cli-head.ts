import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@tsserve/test-utils";

/** A head started with the built CLI (`tsserve start`), as a user runs it. */
export interface CliHead extends AsyncDisposable {
  readonly httpUrl: string;
  readonly pid: number;
  readonly controllerPid: number;
  readonly natsPid: number | null;
  readonly agentPids: readonly number[];
  /** The head's proxy worker processes (`--proxies N` > 1), else empty. */
  readonly proxyPids: readonly number[];
  /** Every descendant of the agents (the replica processes and any wrapper). */
  readonly replicaPids: readonly number[];
  /** `tsserve deploy <file>` against this head (from `cwd`). */
  deploy(file: string, cwd: string): Promise<void>;
  /** `tsserve shutdown`, then removes the state directory. */
  stop(): Promise<void>;
}

/** Live children of `pid` (every thread's), from /proc. */
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const t = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (t) out.push(...t.split(" ").map(Number));
    }
  } catch {
    // Gone: no children.
  }
  return out;
}

function descendants(pid: number): number[] {
  return children(pid).flatMap((c) => [c, ...descendants(c)]);
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};

/**
 * Runs the built CLI (`packages/tsserve/dist/cli.js`, so `pnpm build` first) with `args`; rejects
 * with its stderr on a non-zero exit.
 */
function runCli(root: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, "packages/tsserve/dist/cli.js"), ...args],
      { cwd, timeout: 120_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`tsserve ${args[0]}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** `tsserve start` on free ports with `extra` flags and no dashboard; resolves once it is up. */
export async function startCliHead(root: string, extra: string[] = []): Promise<CliHead> {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-bench-head-"));
  const S = ["--state-dir", stateDir];
  const port = await freePort();
  await runCli(
    root,
    ["start", ...S, "--http-port", String(port), "--nats-port", "0", "--no-dashboard", ...extra],
    root,
  );
  const rec = JSON.parse(readFileSync(join(stateDir, "head-process.json"), "utf8")) as {
    pid: number;
    controllerPid: number;
    natsPid: number | null;
    agentPids: number[];
    httpUrl: string;
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= runCli(root, ["shutdown", ...S], root)
      .then(() => undefined)
      .finally(() => rmSync(stateDir, { recursive: true, force: true })));
  return {
    httpUrl: rec.httpUrl,
    pid: rec.pid,
    controllerPid: rec.controllerPid,
    natsPid: rec.natsPid,
    agentPids: rec.agentPids,
    proxyPids: children(rec.pid).filter((p) => cmdline(p).includes("proxy-worker.js")),
    get replicaPids() {
      return rec.agentPids.flatMap(descendants);
    },
    deploy: async (file, cwd) => void (await runCli(root, ["deploy", file, ...S], cwd)),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
