import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "@tsserve/protocol";
import { alive, cli, expectOneLineError, headPids, stopPids } from "./cli-harness.js";

// One head for the whole file, driven only through the spawned CLI, as a user would.
const stateDir = mkdtempSync(join(tmpdir(), "tsserve-cli-"));
const S = ["--state-dir", stateDir];
let httpPort = 0;
let pids: number[] = [];

beforeAll(async () => {
  httpPort = await freePort();
  const start = await cli(["start", ...S, "--http-port", String(httpPort), "--nats-port", "0"]);
  expect(start.code, start.stderr).toBe(0);
  pids = headPids(stateDir);
}, 90_000);

afterAll(async () => {
  // Normally `shutdown` already stopped everything; this catches a failed test midway.
  await stopPids(pids.filter(alive));
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

async function status(): Promise<StatusReport> {
  const run = await cli(["status", "--json", ...S]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as StatusReport;
}

async function post(
  session: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-session-id": session },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

// Each step spawns the CLI (and deploy spawns 4 replicas): generous on 2 shared cores.
describe("tsserve CLI against a real local head", { timeout: 120_000 }, () => {
  it("start records the address and pids in the state dir", () => {
    const address = readFileSync(join(stateDir, "address"), "utf8").trim();
    expect(address).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(pids.length).toBeGreaterThanOrEqual(4); // head, controller, agent, nats-server
    expect(pids.every(alive)).toBe(true);
  });

  it("deploys examples/chat/serve.yaml and waits until it is HEALTHY", async () => {
    const run = await cli(["deploy", "examples/chat/serve.yaml", ...S]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^chat: HEALTHY \(Chat ×4; ingress Chat; HTTP \/chat; code [0-9a-f]{16}\)$/m);
  });

  it("status prints a table and --json lists applications, deployments and replicas with states", async () => {
    const table = await cli(["status", ...S]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/chat\s+\/chat\s+Chat \(ingress\)\s+HEALTHY\s+4\/4/);
    const report = await status();
    expect(report.applications.map((a) => a.name)).toEqual(["chat"]);
    const dep = report.applications[0]!.deployments[0]!;
    expect(dep).toMatchObject({ name: "Chat", status: "HEALTHY", targetReplicas: 4 });
    expect(dep.replicas).toHaveLength(4);
    for (const r of dep.replicas) expect(r.state).toBe("RUNNING");
  });

  it("routes 10 HTTP POSTs with x-session-id: u1 to one replica, history growing", async () => {
    // Warm the proxy's handle first (session-less requests spread over the ring): a cold handle
    // probes, and a probe that misses its 100 ms deadline on a saturated 2-core machine would send
    // u1's first turn to the ring's fallback replica, by design.
    await Promise.all(
      Array.from({ length: 24 }, () =>
        fetch(`http://127.0.0.1:${httpPort}/chat`, { method: "POST", body: '"warm"' }).then((r) => r.text()),
      ),
    );
    const replicas = new Set<unknown>();
    for (let i = 1; i <= 10; i++) {
      const { status: code, json } = await post("u1", `turn ${i}`);
      expect(code).toBe(200);
      expect(json["turns"]).toBe(i);
      replicas.add(json["replica"]);
    }
    expect(replicas.size).toBe(1);
  });

  it("call prints the method's result as JSON", async () => {
    const run = await cli([
      "call",
      "chat",
      "Chat",
      "--method",
      "reply",
      "--session",
      "u2",
      "--data",
      '"hey"',
      ...S,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      session: "u2",
      turns: 1,
      reply: 'you said "hey" (turn 1 of this session)',
    });
  });

  it("rejects bad inputs with one clear line and a non-zero exit, harming nothing", async () => {
    expectOneLineError(
      await cli(["deploy", "examples/chat/nope.yaml", ...S]),
      "deploy",
      /examples\/chat\/nope\.yaml: cannot read the config file: no such file/,
    );
    const bad = join(stateDir, "bad.yaml");
    writeFileSync(
      bad,
      "applications:\n  - name: chat\n    importPath: x.ts\n    deployments:\n      - name: Chat\n        maxOngoingRequests: lots\n",
    );
    expectOneLineError(
      await cli(["deploy", bad, ...S]),
      "deploy",
      /bad\.yaml: applications\[0\]\.deployments\[0\]\.maxOngoingRequests: expected an integer >= 1, got "lots"$/,
    );
    expectOneLineError(
      await cli(["delete", "nope", ...S]),
      "delete",
      /unknown application "nope"; deployed applications: chat$/,
    );
    expectOneLineError(
      await cli(["call", "nope", "Chat", ...S]),
      "call",
      /unknown application "nope"; deployed applications: chat$/,
    );
    expectOneLineError(
      await cli(["call", "chat", "Nope", ...S]),
      "call",
      /unknown deployment "Nope" in application "chat"; its deployments: Chat$/,
    );
    expectOneLineError(await cli(["call", "chat", "Chat", "--method", "nope", ...S]), "call", /"nope"/);
    expectOneLineError(
      await cli(["call", "chat", "Chat", "--data", "{bad", ...S]),
      "call",
      /--data: expected a JSON value .* got "\{bad"/,
    );
    const closed = await freePort();
    expectOneLineError(
      await cli(["status", "--address", `nats://127.0.0.1:${closed}`]),
      "status",
      new RegExp(`cannot reach NATS at nats://127\\.0\\.0\\.1:${closed} \\(address from --address\\)`),
    );
    expectOneLineError(
      await cli(["status", "--state-dir", join(stateDir, "none")]),
      "status",
      /no cluster address: pass --address/,
    );
    // Still serving, untouched.
    const report = await status();
    expect(report.applications[0]!.deployments[0]!.status).toBe("HEALTHY");
    expect(
      report.applications[0]!.deployments[0]!.replicas.filter((r) => r.state === "RUNNING"),
    ).toHaveLength(4);
    expect((await post("u1", "still here")).json["turns"]).toBe(11);
  });

  it("delete drains the application", async () => {
    const run = await cli(["delete", "chat", ...S]);
    expect(run.code, run.stderr).toBe(0);
    await waitUntil(async () => (await status()).applications.length === 0, {
      timeoutMs: 30_000,
      message: "chat removed",
    });
    // `delete` returns once the proxy stopped routing to the app: the next request is a 404.
    const res = await fetch(`http://127.0.0.1:${httpPort}/chat`, {
      method: "POST",
      body: "1",
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(404);
  });

  it("shutdown stops the controller, agents, proxy, nats-server and the head", async () => {
    const run = await cli(["shutdown", ...S]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/shut down \(head pid \d+ exited\)/);
    await waitUntil(() => !pids.some(alive), { timeoutMs: 15_000, message: "every head process gone" });
    expect(existsSync(join(stateDir, "address"))).toBe(false);
    expectOneLineError(await cli(["status", ...S]), "status", /no cluster address/);
  });
});
