import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import {
  startNats,
  waitForReplicaState,
  waitUntil,
  type NatsFixture,
  startReplica,
} from "@tsserve/test-utils";
import { call, makeSpec, PREFIX } from "./helpers.js";

describe("replica lifecycle", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("drains on SIGTERM: DRAINING, in-flight request completes, then no-responders, exit 0", async () => {
    const spec = makeSpec(nats.url, "echo-app.ts", "Echo", { gracefulShutdownWaitLoopS: 1 });
    await using replica = await startReplica(spec, { nc });
    const ids = { prefix: PREFIX, app: spec.app, deployment: spec.deployment, replicaId: spec.replicaId };
    const inFlight = call(nc, replica.requestSubject, "block", ["x"], { timeoutMs: 10_000 });
    await waitUntil(async () => (await call(nc, replica.requestSubject, "add", [0, 0])).queueLen === 1);

    const draining = waitForReplicaState(nc, { ...ids, state: "DRAINING", timeoutMs: 5000 });
    const stopped = waitForReplicaState(nc, { ...ids, state: "STOPPED", timeoutMs: 10_000 });
    await nc.flush();
    const t0 = Date.now();
    replica.child.kill("SIGTERM");
    const hb = await draining;
    expect(hb.ongoing).toBe(1);

    // Within the grace period the replica still serves (routers may not have seen it leave yet).
    expect((await call(nc, replica.requestSubject, "add", [1, 1])).kind).toBe(ReplyKind.OK);

    // After the grace period the request subject is unsubscribed, so a late sender gets NATS
    // no-responders at once.
    const lateCall = (): Promise<string | undefined> =>
      nc
        .request(
          replica.requestSubject,
          encodeRequest({ requestId: "late", method: "add", args: [1, 1], sessionId: null, stream: false }),
          { timeout: 2000 },
        )
        .then(
          () => "answered",
          (e: { code?: string }) => e.code,
        );
    await waitUntil(async () => (await lateCall()) === "503", { message: "request subject unsubscribed" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // not before the grace period
    // Probes are still answered while a request is in flight: handles use them to tell a draining
    // replica from a dead one.
    const probe = decodeReply(
      (await nc.request(replica.probeSubject, new Uint8Array(), { timeout: 2000 })).data,
    );
    expect(probe).toMatchObject({ kind: ReplyKind.QUEUE_LEN, queueLen: 1 });
    expect(replica.child.exitCode).toBeNull(); // still waiting for the in-flight request

    replica.child.kill("SIGUSR2"); // opens the gate of block("x")
    const r = await inFlight;
    expect(r.kind).toBe(ReplyKind.OK);
    expect((r as { value: unknown }).value).toBe("released x");
    expect((await stopped).ongoing).toBe(0);
    expect(await replica.exited).toBe(0);
  });

  it("treats SIGINT like SIGTERM", async () => {
    const spec = makeSpec(nats.url, "echo-app.ts", "Echo");
    await using replica = await startReplica(spec, { nc });
    const stopped = waitForReplicaState(nc, {
      prefix: PREFIX,
      app: spec.app,
      deployment: spec.deployment,
      replicaId: spec.replicaId,
      state: "STOPPED",
    });
    await nc.flush();
    replica.child.kill("SIGINT");
    await stopped;
    expect(await replica.exited).toBe(0);
  });

  it("reports FAILED with the constructor's error, prints it, and exits 1", async () => {
    const spec = makeSpec(nats.url, "failing-app.ts", "Broken");
    const failed = waitForReplicaState(nc, {
      prefix: PREFIX,
      app: spec.app,
      deployment: spec.deployment,
      replicaId: spec.replicaId,
      state: "FAILED",
    });
    await using replica = await startReplica(spec, { nc, waitFor: "FAILED" });
    expect((await failed).error).toBe("Error: boom: cannot load the model");
    expect(await replica.exited).toBe(1);
    expect(replica.stderr()).toContain("boom: cannot load the model");
  });

  it("waitForReplicaState rejects early when FAILED arrives while waiting for RUNNING", async () => {
    const spec = makeSpec(nats.url, "failing-app.ts", "Broken");
    const msg = await startReplica(spec, { nc, waitFor: "RUNNING" }).then(
      () => "started",
      (e: Error) => e.message,
    );
    expect(msg).toContain("reported FAILED while waiting for RUNNING");
    expect(msg).toContain("Error: boom: cannot load the model");
  });

  it("fails clearly when the import path names a missing export", async () => {
    const spec = makeSpec(nats.url, "echo-app.ts#nothing", "Echo");
    await using replica = await startReplica(spec, { nc, waitFor: "FAILED" });
    expect(await replica.exited).toBe(1);
    expect(replica.stderr()).toContain('has no export "nothing"');
  });

  it("exits 1 with a clear message on a malformed spec", async () => {
    const { spawn } = await import("node:child_process");
    const { REPLICA_MAIN } = await import("@tsserve/replica/internal");
    const child = spawn(process.execPath, [REPLICA_MAIN], {
      env: { ...process.env, TSSERVE_REPLICA_SPEC: "{not json" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(1);
    expect(err).toContain("TSSERVE_REPLICA_SPEC is not valid JSON");
  });

  it("answers probes during the grace period and no-responders after it", async () => {
    const spec = makeSpec(nats.url, "echo-app.ts", "Echo", { gracefulShutdownWaitLoopS: 0.5 });
    await using replica = await startReplica(spec, { nc });
    const probe = (): Promise<string | number> =>
      nc.request(replica.probeSubject, new Uint8Array(), { timeout: 2000 }).then(
        (m) => decodeReply(m.data).queueLen,
        (e: { code?: string }) => `error ${e.code}`,
      );
    replica.child.kill("SIGTERM");
    await waitUntil(() => replica.stderr().includes("SIGTERM: draining"));
    expect(await probe()).toBe(0);
    expect(await replica.exited).toBe(0);
    expect(await probe()).toBe("error 503");
  });

  it("waitForReplicaState times out with an error naming the states seen", async () => {
    const err = await waitForReplicaState(nc, {
      prefix: PREFIX,
      app: "nobody",
      deployment: "Nothing",
      replicaId: "ghost",
      state: "RUNNING",
      timeoutMs: 150,
    }).then(
      () => "resolved",
      (e: Error) => e.message,
    );
    expect(err).toContain("replica ghost did not report RUNNING");
    expect(err).toContain("within 150 ms (seen: no heartbeat at all)");
  });
  it("stops at gracefulShutdownTimeoutS when a request never finishes", async () => {
    const spec = makeSpec(nats.url, "echo-app.ts", "Echo", { gracefulShutdownTimeoutS: 1 });
    await using replica = await startReplica(spec, { nc });
    const stuck = call(nc, replica.requestSubject, "block", ["forever"], { timeoutMs: 2500 }).catch(
      (e: { code?: string }) => e.code,
    );
    await waitUntil(async () => (await call(nc, replica.requestSubject, "add", [0, 0])).queueLen === 1);
    const t0 = Date.now();
    replica.child.kill("SIGTERM");
    expect(await replica.exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(replica.stderr()).toContain("stopping with 1 requests still running");
    expect(await stuck).toBe("TIMEOUT");
  });
});

describe("replica drain without NATS", () => {
  it("exits 0 by gracefulShutdownTimeoutS when the NATS server is gone", async () => {
    const local = await startNats({ jetstream: false });
    const spec = makeSpec(local.url, "echo-app.ts", "Echo", { gracefulShutdownTimeoutS: 1 });
    const replica = await startReplica(spec, { nc: local.nc });
    try {
      await local.stop();
      const t0 = Date.now();
      replica.child.kill("SIGTERM");
      expect(await replica.exited).toBe(0);
      expect(replica.stderr()).toContain("SIGTERM: draining");
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      await replica[Symbol.asyncDispose]();
    }
  });
});
