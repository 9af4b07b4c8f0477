// Issue 11, finding 1: an agent SIGKILLed right after it spawned a replica left an orphan that
// served and heartbeated forever, and was later re-adopted. Now the replica watches the parent pid
// its agent put in its spec (and the preload the one in TSSERVE_PARENT_PID), so an orphan exits
// before it serves, and the controller never adopts a replica no live agent lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, type ReplicaHeartbeat } from "@tsserve/protocol/internal";
import { childPids, processAlive, sleep, waitUntil } from "@tsserve/test-utils";
import { spawnAgent } from "./fixtures/agent-harness.js";
import {
  PREFIX,
  deployRequest,
  startHarness,
  watchMembership,
  type Harness,
} from "./helpers/controller-harness.js";

const TRIALS = 20;
const ORPHAN_EXIT_BOUND_MS = 10_000;

/** Polls /proc as fast as it can until `pid` has a child; resolves with the child's pid. */
async function firstChild(pid: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const kids = childPids(pid);
    if (kids.length > 0) return kids[0]!;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`agent ${pid} spawned no replica within ${timeoutMs} ms`);
}

describe("an agent SIGKILLed right after it spawns a replica", () => {
  let h: Harness;
  beforeAll(async () => {
    // A short agent timeout so that each trial's dead agent is given up on quickly.
    h = await startHarness(0, ["--agent-timeout-ms", "1500"]);
  });
  afterAll(async () => {
    await h?.[Symbol.asyncDispose]();
  });

  it(`leaves an orphan that exits within 10 s and is never adopted (${TRIALS} trials)`, async () => {
    const members = watchMembership(h.client, "orph", "Worker");
    // Every RUNNING heartbeat on the cluster, by replica id.
    const running = new Set<string>();
    const hbSub = h.client.nc.subscribe(`${PREFIX}.hb.orph.>`, {
      callback: (_e, msg) => {
        const hb = decode(msg.data) as ReplicaHeartbeat;
        if (hb.state === "RUNNING") running.add(hb.replicaId);
      },
    });
    await h.cluster.client.deploy(deployRequest("orph", "worker", { numReplicas: 1 }));
    const exitTimes: number[] = [];
    const orphans: { pid: number; replicaId: string }[] = [];
    try {
      for (let i = 0; i < TRIALS; i++) {
        // What the controller asked this agent for names the replica.
        const asked: string[] = [];
        const startSub = h.client.nc.subscribe(`${PREFIX}.agent.orphan-node-${i}.start`, {
          callback: (_e, msg) => asked.push((decode(msg.data) as { replicaId: string }).replicaId),
        });
        const agent = spawnAgent(h.nats.url, `orphan-node-${i}`, { prefix: PREFIX, stdout: "ignore" });
        const replicaPid = await firstChild(agent.pid, 30_000);
        process.kill(agent.pid, "SIGKILL");
        const killedAt = Date.now();
        await agent.exited;
        await waitUntil(() => !processAlive(replicaPid), {
          timeoutMs: ORPHAN_EXIT_BOUND_MS + 5000,
          intervalMs: 20,
          message: `orphan replica ${replicaPid} (trial ${i}) to exit`,
        });
        exitTimes.push(Date.now() - killedAt);
        startSub.unsubscribe();
        orphans.push({ pid: replicaPid, replicaId: asked.at(-1) ?? "?" });
      }
      // Give a late heartbeat or adoption every chance to show up.
      await sleep(2000);
      const ids = new Set(orphans.map((o) => o.replicaId));
      const adopted = members.snapshots.flatMap((s) => s.replicas).filter((r) => ids.has(r.replicaId));
      const status = await h.cluster.client.status();
      const listed = status.applications
        .flatMap((a) => a.deployments)
        .flatMap((d) => d.replicas)
        .filter((r) => ids.has(r.replicaId));
      const sorted = [...exitTimes].sort((a, b) => a - b);
      console.log(
        `orphans: ${TRIALS} trials, exit after agent SIGKILL (ms) median ${sorted[Math.floor(TRIALS / 2)]}, ` +
          `max ${sorted.at(-1)}; in membership ${adopted.length}; RUNNING heartbeats ${[...ids].filter((id) => running.has(id)).length}; ` +
          `in status ${listed.length}`,
      );
      expect(orphans.every((o) => o.replicaId.startsWith("Worker-"))).toBe(true);
      expect(Math.max(...exitTimes)).toBeLessThan(ORPHAN_EXIT_BOUND_MS);
      expect(adopted).toEqual([]);
      expect(listed).toEqual([]);
    } finally {
      members.stop();
      hbSub.unsubscribe();
    }

    // A healthy agent afterwards gets the replica, and it serves.
    const agent = spawnAgent(h.nats.url, "healthy-node", { prefix: PREFIX, stdout: "ignore" });
    try {
      const handle = h.client.getDeploymentHandle("Worker", { app: "orph" });
      const reply = (await handle.options({ timeoutMs: 30_000 }).remote("hi")) as { replica: string };
      expect(reply.replica).toMatch(/^Worker-/);
    } finally {
      await agent.kill("SIGTERM");
    }
  }, 240_000);
});
