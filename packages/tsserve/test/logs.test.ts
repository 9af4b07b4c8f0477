import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { startProxy } from "@tsserve/proxy";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT, alive, cleanEnv, cli, stopPids } from "./cli-harness.js";

const FIX = join(ROOT, "packages/tsserve/test/fixtures");
const headDir = mkdtempSync(join(tmpdir(), "tsserve-logs-head-"));
// The second "machine": its agent keeps its replica log files in a directory of its own.
const remoteDir = mkdtempSync(join(tmpdir(), "tsserve-logs-remote-"));
let cluster: LocalCluster;
let T: string[] = [];
const children: ChildProcess[] = [];

function spawnCli(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    stateDir: headDir,
    natsPort: await freePort(),
    logs: "file",
    nodeIds: ["head-node"],
    // The head's replicas write the access log (the remote agent's do not: it is off by default).
    env: { TSSERVE_ACCESS_LOG: "1" },
  });
  T = ["--address", cluster.address, "--prefix", cluster.prefix];
  spawnCli(["agent", ...T, "--state-dir", remoteDir, "--node-id", "remote-node"]);
  await waitUntil(async () => (await cluster.client.status()).nodes.some((n) => n.nodeId === "remote-node"), {
    timeoutMs: 30_000,
    message: "remote agent registered",
  });
}, 60_000);

afterAll(async () => {
  await stopPids(children.map((c) => c.pid!).filter(alive));
  await cluster?.stop();
  rmSync(headDir, { recursive: true, force: true });
  rmSync(remoteDir, { recursive: true, force: true });
}, 60_000);

describe("replica logs", { timeout: 120_000 }, () => {
  it("tsserve logs shows a replica's console.log from a replica on another agent, and follows it", async () => {
    const dep = await cli(["deploy", join(FIX, "logs.yaml"), ...T]);
    expect(dep.code, dep.stdout + dep.stderr).toBe(0);
    const d = (await cluster.client.status()).applications[0]!.deployments[0]!;
    const remote = d.replicas.find((r) => r.nodeId === "remote-node");
    expect(remote, JSON.stringify(d.replicas)).toBeDefined();
    const follow = spawnCli(["logs", "talk", "Talker", "--replica", remote!.replicaId, "-f", ...T]);
    // Calls spread over both replicas; keep calling until the remote one printed.
    await waitUntil(
      async () => {
        const call = await cli(["call", "talk", "Talker", "--data", '"ping"', ...T]);
        return call.stdout.includes(remote!.replicaId);
      },
      { timeoutMs: 60_000, intervalMs: 10, message: "a call served by the remote replica" },
    );
    const logs = await cli(["logs", "talk", "--replica", remote!.replicaId, "--since", "5m", ...T]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(
      new RegExp(`^\\S+Z \\[talk/${remote!.replicaId}\\] hello from ${remote!.replicaId}: ping$`, "m"),
    );
    // Only the other machine's directory holds that replica's file: the lines came over NATS.
    expect(existsSync(join(remoteDir, "logs/replicas/talk/Talker", `${remote!.replicaId}.log`))).toBe(true);
    expect(readdirSync(join(headDir, "logs/replicas/talk/Talker"))).not.toContain(`${remote!.replicaId}.log`);
    const local = d.replicas.find((r) => r.nodeId === "head-node")!;
    const access = await waitUntil(
      async () => {
        await cli(["call", "talk", "Talker", "--data", '"pong"', ...T]);
        const l = await cli(["logs", "talk", "--replica", local.replicaId, ...T]);
        return l.stdout.split("\n").find((x) => / INFO .*\] request .*requestId=/.test(x));
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "an access-log line of the head's replica" },
    );
    expect(access).toMatch(/sessionId=null method=__call__ ms=[\d.]+$/);
    const remoteLogs = await cli(["logs", "talk", "--replica", remote!.replicaId, ...T]);
    expect(remoteLogs.stdout).not.toMatch(/\] request .*requestId=/);
    await waitUntil(() => follow.output().includes(`hello from ${remote!.replicaId}: ping`), {
      timeoutMs: 10_000,
      message: "logs -f printed the line",
    });
  });

  it("an error thrown while serving is logged with its request id and session id", async () => {
    const call = await cli([
      "call",
      "talk",
      "Talker",
      "--method",
      "fail",
      "--data",
      '"x1"',
      "--session",
      "sess-42",
      ...T,
    ]);
    expect(call.code).not.toBe(0);
    const line = await waitUntil(
      async () => {
        const logs = await cli(["logs", "talk", ...T]);
        return logs.stdout.split("\n").find((l) => l.includes("request failed"));
      },
      { timeoutMs: 10_000, message: "the request error in the logs" },
    );
    expect(line).toMatch(
      /ERROR \[replica\] request failed .*requestId=[\w-]{8,} sessionId=sess-42 method=fail code=USER_CODE error=TypeError: cannot handle x1/,
    );
  });

  it("a RangeError reaches HTTP with its name and message; its stack is in the replica log once", async () => {
    const proxy = await startProxy({ address: cluster.address, prefix: cluster.prefix, port: 0 });
    try {
      const res = await fetch(`${proxy.url}/talk/outOfRange`, {
        method: "POST",
        body: "1234",
        headers: { "x-session-id": "range-1" },
      });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: Record<string, unknown> };
      // Debugging is off (cleanEnv): no stack in the answer.
      expect(body.error).toEqual({
        code: "USER_CODE",
        name: "UserCodeError",
        remoteName: "RangeError",
        message: "1234 is out of range",
      });
    } finally {
      await proxy.close();
    }
    const text = await waitUntil(
      () => {
        // The replica that served it is on either machine.
        const all = [headDir, remoteDir]
          .map((d) => join(d, "logs/replicas/talk/Talker"))
          .flatMap((dir) => readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")))
          .join("");
        return all.includes("sessionId=range-1") ? all : undefined;
      },
      { timeoutMs: 10_000, message: "the request error in the replica log file" },
    );
    const lines = text.split("\n").filter((l) => l !== "");
    const failed = lines.filter((l) => l.includes("sessionId=range-1"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /requestId=[\w-]{8,} sessionId=range-1 method=outOfRange code=USER_CODE error=RangeError: 1234 is out of range$/,
    );
    // The stack follows its line, once: one frame naming the method in the whole log.
    const at = lines.filter((l) => /at Talker\.outOfRange /.test(l));
    expect(at).toHaveLength(1);
    expect(lines.indexOf(at[0]!)).toBeGreaterThan(lines.indexOf(failed[0]!));
    // One timestamp per line: the agent's; the replica's own text lines carry none.
    for (const l of lines) expect(l, l).not.toMatch(/^\S+Z \S+ std(out|err) \d{4}-\d\d-\d\dT/);
  });

  it("tsserve run shows replica output live with a replica prefix", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "tsserve-logs-run-"));
    try {
      const httpPort = await freePort();
      const run = spawnCli([
        "run",
        join(FIX, "logs.yaml"),
        "--state-dir",
        runDir,
        "--http-port",
        String(httpPort),
        "--nats-port",
        "0",
      ]);
      await waitUntil(() => /talk: HEALTHY/.test(run.output()), {
        timeoutMs: 90_000,
        message: "run HEALTHY",
      });
      const res = await fetch(`http://127.0.0.1:${httpPort}/talk`, { method: "POST", body: '"live"' });
      const replica = (await res.json()) as string;
      await waitUntil(() => run.output().includes(`[talk/${replica}] hello from ${replica}: live`), {
        timeoutMs: 10_000,
        message: `run printed the replica's line; output:\n${run.output()}`,
      });
      run.child.kill("SIGINT");
      await waitUntil(() => run.child.exitCode !== null, { timeoutMs: 30_000, message: "run exited" });
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
