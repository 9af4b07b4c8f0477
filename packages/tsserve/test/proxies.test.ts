import { execFileSync } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { request, Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childPids, freePort, processCommand, waitUntil } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, alive, cli, expectOneLineError, headPids, stopPids } from "./cli-harness.js";

// `tsserve start --proxies 2`: two proxy processes (node:cluster workers of the head) serve one
// HTTP port; driven through the spawned CLI as a user would.
const FIX = join(ROOT, "packages/tsserve/test/fixtures");
const stateDir = mkdtempSync(join(tmpdir(), "tsserve-proxies-"));
const S = ["--state-dir", stateDir];
let httpPort = 0;
let dashboardUrl = "";
let pids: number[] = [];
let headPid = 0;

/** The head's proxy workers: its children running the built proxy-worker entry. */
const workers = (): number[] =>
  childPids(headPid).filter((p) => processCommand(p).includes("proxy-worker.js"));

/** utime + stime ticks of a process, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** POSTs `body` to /talk on a fresh connection (no keep-alive), so each call is a new accept. */
function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: httpPort,
        path: "/talk",
        method: "POST",
        agent: new Agent({ keepAlive: false }),
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  httpPort = await freePort();
  const start = await cli([
    "start",
    ...S,
    "--http-port",
    String(httpPort),
    "--nats-port",
    "0",
    "--dashboard-port",
    "0",
    "--proxies",
    "2",
  ]);
  expect(start.code, start.stderr).toBe(0);
  pids = headPids(stateDir);
  const rec = JSON.parse(readFileSync(join(stateDir, "head-process.json"), "utf8")) as {
    pid: number;
    httpUrl: string;
    dashboardUrl: string;
  };
  headPid = rec.pid;
  dashboardUrl = rec.dashboardUrl;
  expect(rec.httpUrl).toBe(`http://127.0.0.1:${httpPort}`);
  pids.push(...workers());
  const deploy = await cli(["deploy", join(FIX, "logs.yaml"), ...S]);
  expect(deploy.code, deploy.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await stopPids(pids.filter(alive));
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("tsserve start --proxies 2", { timeout: 120_000 }, () => {
  it("rejects --proxies with --no-http in one line", async () => {
    const run = await cli(["start", "--state-dir", join(stateDir, "other"), "--no-http", "--proxies", "2"]);
    expectOneLineError(run, "start", /--proxies 2: the proxies serve HTTP/);
  });

  it("serves one port from two proxy processes, both taking connections", async () => {
    const [a, b] = workers();
    expect(workers()).toHaveLength(2);
    // Both have routes (each polls the controller): wait until the route answers.
    await waitUntil(async () => (await post("warm")).status === 200, { message: "POST /talk answers 200" });
    const before = [cpuTicks(a!), cpuTicks(b!)];
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => post(`m${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => JSON.parse(r.text) as string)).size).toBe(2); // both replicas
    // The head hands connections to the workers in turn: each did real work.
    expect(cpuTicks(a!)).toBeGreaterThan(before[0]!);
    expect(cpuTicks(b!)).toBeGreaterThan(before[1]!);
  });

  it("sums both workers' series in the head's /metrics", async () => {
    const text = await (await fetch(`${dashboardUrl}/metrics`)).text();
    const m =
      /^tsserve_http_requests_total\{(?=[^}]*route="\/talk")(?=[^}]*status="200")[^}]*\} (\d+)$/m.exec(text);
    expect(m, text.slice(0, 2000)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(301);
  });

  it("replaces a worker that dies, and the port keeps serving", async () => {
    const [victim, survivor] = workers();
    // The pool does not replace a worker that dies within 5 s of its start (a crash loop): wait
    // until the victim is older than that, or a fast run of the tests above kills it too early.
    const uptimeS = (pid: number): number =>
      Number(execFileSync("ps", ["-o", "etimes=", "-p", String(pid)], { encoding: "utf8" }).trim());
    await waitUntil(() => uptimeS(victim!) >= 6, { timeoutMs: 10_000, message: "the victim worker 6 s old" });
    process.kill(victim!, "SIGKILL");
    await waitUntil(
      () => {
        const now = workers();
        return now.length === 2 && !now.includes(victim!) && now.includes(survivor!);
      },
      { timeoutMs: 30_000, message: "a replacement proxy worker" },
    );
    pids.push(...workers());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`after${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it("shutdown stops the proxy workers with the head", async () => {
    const live = workers();
    const run = await cli(["shutdown", ...S]);
    expect(run.code, run.stderr).toBe(0);
    await waitUntil(() => !live.some(alive) && !pids.some(alive), {
      timeoutMs: 20_000,
      message: "every head process and proxy worker gone",
    });
  });
});
