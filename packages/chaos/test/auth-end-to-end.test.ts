import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { startNatsServer, type NatsServer } from "@tsserve/test-utils";
import { cleanEnv, cli, expectOneLineError } from "../../tsserve/test/cli-harness.js";

// Every component on a user/password-protected NATS: the credentials are given once (the
// TSSERVE_NATS_* variables here, CLI flags below) and reach the controller, the agent and the
// replicas it spawns through the environment. A client without them can neither deploy nor call.

const USER = "tsserve";
const PASSWORD = "pw-e2e-42";
const CREDS = { TSSERVE_NATS_USER: USER, TSSERVE_NATS_PASSWORD: PASSWORD };

let nats: NatsServer;
let cluster: LocalCluster;
let stateDir: string;

beforeAll(async () => {
  nats = await startNatsServer({ extraConfig: `authorization { user: "${USER}", password: "${PASSWORD}" }` });
  stateDir = mkdtempSync(join(tmpdir(), "tsserve-auth-"));
  // This process's own ControllerClient reads the variables too (this file runs in its own worker).
  Object.assign(process.env, CREDS);
  cluster = await startLocalCluster({ address: nats.url, stateDir, logs: "ignore", env: CREDS });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  for (const k of Object.keys(CREDS)) delete process.env[k];
  await nats?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("an authenticated NATS", () => {
  it("refuses deploy and call without credentials, with one clear line each", async () => {
    const env = cleanEnv();
    for (const k of Object.keys(CREDS)) delete env[k];
    const deploy = await cli(["deploy", "examples/echo/serve.yaml", "--address", nats.url], { env });
    expectOneLineError(deploy, "deploy", /Authorization Violation/i);
    const call = await cli(["call", "echo", "Echo", "--data", '"hi"', "--address", nats.url], { env });
    expectOneLineError(call, "call", /Authorization Violation/i);
    const status = await cluster.client.status();
    expect(status.applications.map((a) => a.name)).not.toContain("echo");
  });

  it("deploys and calls with --nats-user/--nats-password: every component authenticated", async () => {
    const env = cleanEnv();
    for (const k of Object.keys(CREDS)) delete env[k];
    const auth = ["--address", nats.url, "--nats-user", USER, "--nats-password", PASSWORD];
    const deploy = await cli(["deploy", "examples/echo/serve.yaml", ...auth], { env, timeoutMs: 120_000 });
    expect(deploy.code, deploy.stderr).toBe(0);
    // HEALTHY means the replicas (spawned by the agent) connected and reported READY.
    expect(deploy.stdout).toMatch(/echo: HEALTHY/);
    const call = await cli(["call", "echo", "Echo", "--data", '"hi"', ...auth], { env });
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ input: "hi", replica: expect.stringMatching(/^Echo-/) });
  }, 150_000);
});
