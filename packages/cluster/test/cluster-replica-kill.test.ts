import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, controllerMembership } from "@tsserve/handle";
import { AGENT_OPS, agentPattern, decode, type ReplicaExit } from "@tsserve/protocol/internal";
import { isReplicaDiedError } from "@tsserve/protocol";
import { freePort, sleep, waitUntil } from "@tsserve/test-utils";
import { startLocalCluster } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { echoApplication } from "./fixtures/echo-application.js";
import { recordingMembership } from "./fixtures/recording-membership.js";

interface Call {
  start: number;
  end: number;
  replica?: string;
  error?: unknown;
}

const WORKERS = 6;
const CALL_MS = 20;
const MAX_ONGOING = 5;

describe("a replica SIGKILLed under traffic from a controller-backed handle", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-kill-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("is replaced, fails only the calls it was running, and leaves the handle's set within 1 s", async () => {
    await using cluster = await startLocalCluster({ stateDir, natsPort: await freePort(), logs: "file" });
    await cluster.client.deploy({
      applications: [echoApplication("kill", { numReplicas: 3, maxOngoingRequests: MAX_ONGOING })],
    });
    await waitUntil(
      async () => (await cluster.client.members("kill", "Echo").catch(() => null))?.replicas.length === 3,
      {
        timeoutMs: 30_000,
        message: "3 RUNNING replicas",
      },
    );

    await using client = await connect({ address: cluster.address, prefix: cluster.prefix });
    const membership = recordingMembership(
      controllerMembership({ nc: client.nc, prefix: cluster.prefix, app: "kill", deployment: "Echo" }),
    );
    const handle = client.getDeploymentHandle<Echo>("Echo", { app: "kill", membership });
    const calls: Call[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const call: Call = { start: Date.now(), end: 0 };
        try {
          call.replica = await handle.options({ timeoutMs: 10_000 }).slow.remote(CALL_MS);
        } catch (error) {
          call.error = error;
        }
        call.end = Date.now();
        calls.push(call);
      }
    };
    const workers = Array.from({ length: WORKERS }, () => worker());

    // Warm up until every replica has served, so the victim surely has calls in flight.
    await waitUntil(() => new Set(calls.map((c) => c.replica)).size >= 3, {
      timeoutMs: 10_000,
      message: "traffic on all 3",
    });
    const victim = (await cluster.client.status()).applications
      .find((a) => a.name === "kill")
      ?.deployments[0]?.replicas.find((r) => r.state === "RUNNING");
    expect(victim).toBeDefined();
    // "That instant" ends when the death is observable: the agent's exit report. Between the
    // signal and the kernel closing the victim's socket, NATS still delivers requests to it; those
    // calls were handed to the victim, so they fail like the ones it was running.
    let observedAt = 0;
    const exitSub = client.nc.subscribe(agentPattern(cluster.prefix, AGENT_OPS.exit), {
      callback: (_e, m) => {
        if ((decode(m.data) as ReplicaExit).replicaId === victim!.replicaId) observedAt = Date.now();
      },
    });
    await client.nc.flush();
    const killedAt = Date.now();
    process.kill(victim!.pid, "SIGKILL");
    await sleep(3000);
    running = false;
    await Promise.all(workers);
    exitSub.unsubscribe();
    expect(observedAt - killedAt, "exit report delay").toBeLessThan(1000);

    // Only calls in flight on the victim at the kill may fail, and only with ReplicaDiedError.
    const failed = calls.filter((c) => c.error !== undefined);
    for (const c of failed) {
      expect(isReplicaDiedError(c.error), String(c.error)).toBe(true);
      expect(c.start).toBeLessThanOrEqual(observedAt);
    }
    expect(failed.length).toBeLessThanOrEqual(MAX_ONGOING);
    const after = calls.filter((c) => c.start > observedAt);
    expect(after.length).toBeGreaterThan(50);
    expect(after.every((c) => c.error === undefined && c.replica !== victim!.replicaId)).toBe(true);

    // The handle's own replica set dropped the victim within 1 s.
    const dropped = membership.updates.find(
      (u) => u.at >= killedAt && !u.replicaIds.includes(victim!.replicaId),
    );
    expect(dropped, JSON.stringify(membership.updates)).toBeDefined();
    expect(dropped!.at - killedAt).toBeLessThanOrEqual(1000);

    // The controller replaced it.
    const replaced = await waitUntil(
      async () => {
        const m = await cluster.client.members("kill", "Echo");
        const ids = m.replicas.map((r) => r.replicaId);
        return ids.length === 3 && !ids.includes(victim!.replicaId) ? ids : undefined;
      },
      { timeoutMs: 30_000, message: "a replacement replica RUNNING" },
    );
    expect(replaced).toHaveLength(3);
    console.log(
      `replica kill: ${calls.length} calls, ${failed.length} failed (ReplicaDiedError), ` +
        `failed call starts at ${failed.map((c) => c.start - killedAt).join(", ")} ms after the kill, ` +
        `exit reported after ${observedAt - killedAt} ms, handle dropped the victim after ${dropped!.at - killedAt} ms`,
    );
  });
});
