import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "tsserve";
import { freePort, startNats, type NatsFixture } from "@tsserve/test-utils";
import { ROOT, cleanEnv, cli, headPids, stopPids } from "./cli-harness.js";

const FIX = join(ROOT, "packages/tsserve/test/fixtures");
const app = mkdtempSync(join(tmpdir(), "tsserve-connect-"));
writeFileSync(join(app, "package.json"), "{}");
mkdirSync(join(app, "src/deep"), { recursive: true });
const stateDir = join(app, ".tsserve");
let stranger: NatsFixture;
let pids: number[] = [];
let startOut = "";

/** Runs `fn` with no TSSERVE_* variable that would point connect() elsewhere. */
async function withCleanEnv<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (!(k in cleanEnv())) delete process.env[k];
  try {
    return await fn();
  } finally {
    Object.assign(process.env, saved);
  }
}

beforeAll(async () => {
  // Someone else's NATS on the port the head asks for (4222 in real life; a free one here, so
  // the test never touches a real 4222).
  stranger = await startNats({ jetstream: false });
  const start = await cli(
    ["start", "--nats-port", String(stranger.server.port), "--http-port", "0", "--no-dashboard"],
    { cwd: app },
  );
  startOut = start.stdout + start.stderr;
  pids = headPids(stateDir);
  expect(start.code, startOut).toBe(0);
  const dep = await cli(["deploy", join(FIX, "logs.yaml")], { cwd: join(app, "src") });
  expect(dep.code, dep.stdout + dep.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await cli(["shutdown"], { cwd: app });
  await stopPids(pids);
  await stranger?.stop();
  rmSync(app, { recursive: true, force: true });
}, 60_000);

describe("connect() without an address", { timeout: 60_000 }, () => {
  it("tsserve start says that NATS moved off the taken port", () => {
    expect(startOut).toMatch(
      new RegExp(
        `note\\s+NATS port ${stranger.server.port} is taken, so NATS listens on \\d+: .*\\.tsserve/address`,
      ),
    );
  });

  it("reaches the local head on its moved port from a subfolder, never the stranger on the asked port", async () => {
    const client = await withCleanEnv(() => connect({ cwd: join(app, "src/deep") }));
    try {
      expect(client.addressSource).toBe(join(stateDir, "address"));
      expect(client.address).not.toContain(`:${stranger.server.port}`);
      // Only the head serves this deployment: through the stranger the call could not succeed.
      const replica = await client
        .getDeploymentHandle<{ __call__(x: string): string }>("Talker", { app: "talk" })
        .remote("hi");
      expect(replica).toMatch(/^Talker-/);
    } finally {
      await client.close();
    }
  });

  it("fails with where it looked when there is no head, instead of guessing nats://127.0.0.1:4222", async () => {
    const lonely = mkdtempSync(join(tmpdir(), "tsserve-connect-none-"));
    try {
      const err = await withCleanEnv(() => connect({ cwd: lonely })).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as { code?: unknown }).code).toBe("UNAVAILABLE");
      expect((err as Error).message).toContain(`no .tsserve/address in ${lonely} or any folder above it`);
    } finally {
      rmSync(lonely, { recursive: true, force: true });
    }
  });

  it("refuses to deploy grpcOptions.protoFiles to a head started without gRPC, saying how", async () => {
    const dep = await cli(["deploy", join(ROOT, "examples/grpc/serve.yaml")], { cwd: app });
    expect(dep.code, dep.stdout + dep.stderr).not.toBe(0);
    expect(dep.stderr).toMatch(/serves no gRPC, so these RPCs would answer UNIMPLEMENTED/);
    expect(dep.stderr).toMatch(/tsserve start --grpc-port 9000 --grpc-proto \S+greeter\.proto/);
    // Nothing reached the cluster.
    const status = await cli(["status", "--json"], { cwd: app });
    expect(status.stdout).not.toContain('"greeter"');
  });

  it("a start that fails leaves no .tsserve/ behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsserve-connect-fail-"));
    writeFileSync(join(dir, "package.json"), "{}");
    try {
      // The HTTP port is taken by the head above's NATS: the start must fail.
      const port = await freePort();
      const run = await cli(
        ["start", "--nats-port", String(port), "--http-port", String(stranger.server.port)],
        {
          cwd: dir,
        },
      );
      expect(run.code, run.stdout + run.stderr).not.toBe(0);
      expect(run.stderr).toContain("already in use");
      expect(existsSync(join(dir, ".tsserve"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
