import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { afterAll, describe, expect, it } from "vitest";
import type { StatusReport } from "@tsserve/protocol";
import { CLI, ROOT, alive, cleanEnv, cli, headPids, stopPids } from "./cli-harness.js";

const stateDir = mkdtempSync(join(tmpdir(), "tsserve-run-"));
const started: ChildProcess[] = [];
let pids: number[] = [];

/** Spawns a long-running CLI command, collecting its output. */
function spawnCli(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

afterAll(async () => {
  await stopPids([...started.map((c) => c.pid!), ...pids].filter(alive));
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("tsserve run and tsserve agent", { timeout: 150_000 }, () => {
  it("run deploys in the foreground, an extra agent joins, Ctrl-C stops everything", async () => {
    const httpPort = await freePort();
    const run = spawnCli([
      "run",
      "examples/echo/serve.yaml",
      "--state-dir",
      stateDir,
      "--http-port",
      String(httpPort),
      "--nats-port",
      "0",
    ]);
    await waitUntil(() => /echo: HEALTHY at http:\/\/127\.0\.0\.1:\d+\/echo/.test(run.output()), {
      timeoutMs: 90_000,
      message: "run reports echo HEALTHY",
    });
    pids = headPids(stateDir);
    expect(pids).toContain(run.child.pid);

    const res = await fetch(`http://127.0.0.1:${httpPort}/echo`, { method: "POST", body: '"via run"' });
    expect(await res.json()).toMatchObject({ input: "via run" });

    // A second machine, simulated: `tsserve agent` finds the address in the state dir.
    const agent = spawnCli(["agent", "--state-dir", stateDir, "--node-id", "extra-node"]);
    await waitUntil(
      async () => {
        const s = await cli(["status", "--json", "--state-dir", stateDir]);
        return (
          s.code === 0 && (JSON.parse(s.stdout) as StatusReport).nodes.some((n) => n.nodeId === "extra-node")
        );
      },
      { timeoutMs: 30_000, message: "extra-node registered" },
    );
    agent.child.kill("SIGINT");
    expect(await agent.exited).toBe(0);

    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/Ctrl-C; stopping the head/);
    await waitUntil(() => !pids.some(alive), { timeoutMs: 20_000, message: "every process of the run gone" });
  });
});
