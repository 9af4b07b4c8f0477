import type { ChildProcess } from "node:child_process";
import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AGENT_OPS,
  agentPattern,
  decode,
  subjectPattern,
  VERBS,
  type AgentHeartbeat,
  type ReplicaExit,
  type ReplicaHeartbeat,
} from "@tsserve/protocol/internal";
import { startNats, waitUntil, type NatsFixture } from "@tsserve/test-utils";
import { pidAlive } from "../src/pid-utils.js";
import { PREFIX, agentRequest, exitOf, replicaSpec, spawnAgent } from "./fixtures/agent-harness.js";

const NODE = "node-a";

describe("agent process", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let agent: { child: ChildProcess; stderr: () => string };
  const replicaHbs: ReplicaHeartbeat[] = [];
  const agentHbs: AgentHeartbeat[] = [];
  const exits: (ReplicaExit & { at: number })[] = [];

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    nc.subscribe(subjectPattern(PREFIX, VERBS.heartbeat, ">"), {
      callback: (_e, m) => replicaHbs.push(decode(m.data) as ReplicaHeartbeat),
    });
    nc.subscribe(agentPattern(PREFIX, AGENT_OPS.heartbeat), {
      callback: (_e, m) => agentHbs.push(decode(m.data) as AgentHeartbeat),
    });
    nc.subscribe(agentPattern(PREFIX, AGENT_OPS.exit), {
      callback: (_e, m) => exits.push({ ...(decode(m.data) as ReplicaExit), at: Date.now() }),
    });
    await nc.flush();
    agent = spawnAgent(nats.url, NODE);
    await waitUntil(() => agentHbs.some((h) => h.nodeId === NODE), { message: "first agent heartbeat" });
  });

  afterAll(async () => {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill("SIGKILL");
      await exitOf(agent.child);
    }
    await nats?.stop();
  });

  const ready = (replicaId: string): Promise<ReplicaHeartbeat> =>
    waitUntil(() => replicaHbs.find((h) => h.replicaId === replicaId && h.state === "RUNNING"), {
      timeoutMs: 20_000,
      message: `READY heartbeat of ${replicaId}`,
    });
  const exitOfReplica = (replicaId: string, timeoutMs = 10_000): Promise<ReplicaExit & { at: number }> =>
    waitUntil(() => exits.find((e) => e.replicaId === replicaId), {
      timeoutMs,
      message: `exit of ${replicaId}`,
    });

  it("starts a replica that reports READY, lists it in heartbeats, and stops it gracefully", async () => {
    const reply = await agentRequest(nc, NODE, AGENT_OPS.start, replicaSpec(NODE, "r1"));
    expect(reply).toEqual({ ok: true, value: null });
    const hb = await ready("r1");
    expect(hb.nodeId).toBe(NODE);
    await waitUntil(() => agentHbs.at(-1)?.replicas.some((r) => r.replicaId === "r1" && r.pid === hb.pid), {
      message: "agent heartbeat listing r1",
    });

    expect(
      await agentRequest(nc, NODE, AGENT_OPS.stop, { replicaId: "r1", graceful: true, timeoutMs: 10_000 }),
    ).toEqual({ ok: true, value: null });
    const exit = await exitOfReplica("r1");
    expect(exit).toMatchObject({ nodeId: NODE, app: "test", deployment: "Echo", code: 0, signal: null });
    expect(replicaHbs.some((h) => h.replicaId === "r1" && h.state === "DRAINING")).toBe(true);
    await waitUntil(() => !agentHbs.at(-1)?.replicas.some((r) => r.replicaId === "r1"), {
      message: "agent heartbeat without r1",
    });
  });

  it("reports a SIGKILLed replica at once", async () => {
    await agentRequest(nc, NODE, AGENT_OPS.start, replicaSpec(NODE, "r2"));
    const hb = await ready("r2");
    const killedAt = Date.now();
    process.kill(hb.pid, "SIGKILL");
    const exit = await exitOfReplica("r2");
    expect(exit).toMatchObject({ code: null, signal: "SIGKILL" });
    expect(exit.at - killedAt).toBeLessThan(500);
  });

  it("reports a failing constructor with its stderr tail", async () => {
    const spec = replicaSpec(NODE, "r3", { exportName: "broken", deployment: "Broken" });
    expect((await agentRequest(nc, NODE, AGENT_OPS.start, spec)).ok).toBe(true);
    const exit = await exitOfReplica("r3", 20_000);
    expect(exit.code).toBe(1);
    expect(exit.stderrTail).toContain("constructor exploded on purpose");
  });

  it("answers malformed commands with BAD_REQUEST and keeps working", async () => {
    const garbage = await agentRequest(nc, NODE, AGENT_OPS.start, new Uint8Array([0xc1, 0xff, 0x00]));
    expect(garbage.ok === false && garbage.error.code).toBe("BAD_REQUEST");
    const noId = await agentRequest(nc, NODE, AGENT_OPS.start, { ...replicaSpec(NODE, "x"), replicaId: 42 });
    expect(noId.ok === false && noId.error.message).toBe(
      "agent start: replicaId: expected a non-empty string, got 42",
    );
    const badStop = await agentRequest(nc, NODE, AGENT_OPS.stop, { replicaId: "r9", graceful: "soon" });
    expect(badStop.ok === false && badStop.error.code).toBe("BAD_REQUEST");
    expect(agent.child.exitCode).toBeNull();

    // An unknown replica is already stopped: stop is idempotent.
    expect(
      (await agentRequest(nc, NODE, AGENT_OPS.stop, { replicaId: "nope", graceful: false, timeoutMs: 0 })).ok,
    ).toBe(true);
    await agentRequest(nc, NODE, AGENT_OPS.start, replicaSpec(NODE, "r4"));
    await ready("r4");
  });

  it("stops its replicas gracefully and exits on shutdown", async () => {
    const pid = (await ready("r4")).pid;
    expect((await agentRequest(nc, NODE, AGENT_OPS.shutdown, {})).ok).toBe(true);
    const exit = await exitOfReplica("r4");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(await exitOf(agent.child)).toEqual({ code: 0, signal: null });
    expect(pidAlive(pid)).toBe(false);
  });
});

describe("agent process killed with SIGKILL", () => {
  it("does not leave its replicas running", async () => {
    await using nats = await startNats({ jetstream: false });
    const nc = nats.nc;
    const hbs: ReplicaHeartbeat[] = [];
    nc.subscribe(subjectPattern(PREFIX, VERBS.heartbeat, ">"), {
      callback: (_e, m) => hbs.push(decode(m.data) as ReplicaHeartbeat),
    });
    const agent = spawnAgent(nats.url, "node-k");
    await waitUntil(
      async () => (await agentRequest(nc, "node-k", AGENT_OPS.start, replicaSpec("node-k", "k1"))).ok,
      {
        message: "agent accepting a start",
      },
    );
    const hb = await waitUntil(() => hbs.find((h) => h.replicaId === "k1" && h.state === "RUNNING"), {
      timeoutMs: 20_000,
    });
    agent.child.kill("SIGKILL");
    await exitOf(agent.child);
    // The orphan notices its parent is gone, drains (DRAINING, then STOPPED) and exits.
    await waitUntil(() => !pidAlive(hb.pid), {
      timeoutMs: 10_000,
      message: `orphaned replica ${hb.pid} exiting`,
    });
    expect(hbs.some((h) => h.replicaId === "k1" && h.state === "DRAINING")).toBe(true);
  });
});

describe("agent process stopped with SIGTERM", () => {
  it("drains its replicas, reports their exits and exits 0", async () => {
    await using nats = await startNats({ jetstream: false });
    const nc = nats.nc;
    const hbs: ReplicaHeartbeat[] = [];
    const exits: ReplicaExit[] = [];
    nc.subscribe(subjectPattern(PREFIX, VERBS.heartbeat, ">"), {
      callback: (_e, m) => hbs.push(decode(m.data) as ReplicaHeartbeat),
    });
    nc.subscribe(agentPattern(PREFIX, AGENT_OPS.exit), {
      callback: (_e, m) => exits.push(decode(m.data) as ReplicaExit),
    });
    const agent = spawnAgent(nats.url, "node-t");
    await waitUntil(
      async () => (await agentRequest(nc, "node-t", AGENT_OPS.start, replicaSpec("node-t", "t1"))).ok,
      {
        message: "agent accepting a start",
      },
    );
    await waitUntil(() => hbs.find((h) => h.replicaId === "t1" && h.state === "RUNNING"), {
      timeoutMs: 20_000,
    });
    agent.child.kill("SIGTERM");
    expect(await exitOf(agent.child)).toEqual({ code: 0, signal: null });
    expect(exits).toMatchObject([{ replicaId: "t1", code: 0, signal: null }]);
    expect(hbs.some((h) => h.replicaId === "t1" && h.state === "STOPPED")).toBe(true);
  });
});
