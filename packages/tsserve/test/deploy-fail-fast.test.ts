import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import type { StatusReport } from "@tsserve/protocol";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT, cleanEnv, cli, type CliRun } from "./cli-harness.js";

const FIX = join(ROOT, "packages/tsserve/test/fixtures");
const stateDir = mkdtempSync(join(tmpdir(), "tsserve-failfast-"));
const flagFile = join(stateDir, "unhealthy.flag");
let cluster: LocalCluster;
let T: string[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({
    stateDir,
    natsPort: await freePort(),
    logs: "file",
    // Replicas get a scrubbed environment: the agent passes on only what TSSERVE_REPLICA_ENV names.
    env: { TSSERVE_TEST_FLAG_FILE: flagFile, TSSERVE_REPLICA_ENV: "TSSERVE_TEST_FLAG_FILE" },
  });
  T = ["--address", cluster.address, "--prefix", cluster.prefix];
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

async function timed(args: string[]): Promise<CliRun & { ms: number }> {
  const t0 = Date.now();
  const run = await cli(args, { timeoutMs: 60_000 });
  return { ...run, ms: Date.now() - t0 };
}

async function status(): Promise<StatusReport> {
  return cluster.client.status();
}

describe("tsserve deploy fails fast and reports the truth", { timeout: 120_000 }, () => {
  it("a crashing constructor fails the deploy within 10 s with its error and stderr tail", async () => {
    const run = await timed(["deploy", join(FIX, "crashing.yaml"), ...T]);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(run.ms).toBeLessThan(10_000);
    expect(run.stderr).toMatch(
      /^tsserve deploy: crashing: DEPLOY_FAILED: Crashing: .*boom: MODEL_PATH is not set/m,
    );
    // The tail of the replica's stderr: its own console.error line and the stack.
    expect(run.stderr).toMatch(/loading model weights from \/models\/missing/);
    expect(run.stdout).toMatch(/… crashing: (DEPLOYING|DEPLOY_FAILED)/);
    const app = (await status()).applications.find((a) => a.name === "crashing")!;
    expect(app.status).toBe("DEPLOY_FAILED");
    expect(app.deployments[0]!.lastErrorLog).toMatch(/boom/);
    await cli(["delete", "crashing", ...T]);
  });

  it("a hanging constructor fails within its startupTimeoutS (3 s)", async () => {
    const run = await timed(["deploy", join(FIX, "hanging.yaml"), ...T]);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(run.stderr).toMatch(/hanging: DEPLOY_FAILED: .*not READY within startupTimeoutS \(3 s\)/);
    // 3 s of timeout, plus CLI start, import and the liveness sweep: far below the old 185 s.
    expect(run.ms).toBeLessThan(3000 + 9000);
    await cli(["delete", "hanging", ...T]);
  });

  it("a deploy across a controller restart reports success when it succeeded", async () => {
    const child = spawn(process.execPath, [CLI, "deploy", join(FIX, "slow.yaml"), ...T], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    // Restart while the replicas are still in their 2.5 s initialize().
    await waitUntil(() => /… slow: DEPLOYING/.test(out), { timeoutMs: 30_000, message: "deploy waiting" });
    await cluster.restartController();
    expect(await exited, out).toBe(0);
    expect(out).toMatch(/^slow: HEALTHY/m);
    const app = (await status()).applications.find((a) => a.name === "slow")!;
    expect(app.status).toBe("RUNNING");
    for (const r of app.deployments[0]!.replicas) {
      expect(r.codeVersion).toMatch(/^[0-9a-f]{16}$/);
      expect(r.restarts).toBe(0);
    }
  });

  it("a failing checkHealth() replaces the replica and counts a restart", async () => {
    writeFileSync(flagFile, "x");
    const replaced = await waitUntil(
      async () => {
        const d = (await status()).applications.find((a) => a.name === "slow")?.deployments[0];
        return d && (d.restarts ?? 0) >= 1 ? d : undefined;
      },
      { timeoutMs: 30_000, message: "health-check replacement counted" },
    );
    expect(replaced.lastError).toMatch(/health check failed: Error: flag file/);
    rmSync(flagFile);
    const healed = await waitUntil(
      async () => {
        const app = (await status()).applications.find((a) => a.name === "slow");
        return app?.status === "RUNNING" ? app : undefined;
      },
      { timeoutMs: 30_000, message: "slow RUNNING again" },
    );
    expect(Math.max(...healed.deployments[0]!.replicas.map((r) => r.restarts ?? 0))).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("a deleted application shows DELETING while its replicas drain", async () => {
    const run = await cli(["delete", "slow", ...T]);
    expect(run.code, run.stderr).toBe(0);
    const app = (await status()).applications.find((a) => a.name === "slow");
    expect(app?.status).toBe("DELETING");
    expect(app?.message).toMatch(/draining \d+ replica/);
    await waitUntil(async () => !(await status()).applications.some((a) => a.name === "slow"), {
      timeoutMs: 30_000,
      message: "slow gone after draining",
    });
  });
});
