import { describe, expect, it } from "vitest";
import {
  controllerSubject,
  decode,
  encode,
  type ReplicaHeartbeat,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import { waitUntil } from "@tsserve/test-utils";
import {
  deployRequest,
  deploymentStatus,
  PREFIX,
  startHarness,
  waitForRunning,
} from "./helpers/controller-harness.js";

describe("Controller liveness and API", () => {
  it("publishes a replica's membership within 100 ms of READY", async () => {
    await using h = await startHarness(1);
    const ready = new Map<string, number>();
    const routable = new Map<string, number>();
    const nc = h.client.nc;
    const hb = nc.subscribe(`${PREFIX}.hb.fast.>`, {
      callback: (_e, m) => {
        const b = decode(m.data) as ReplicaHeartbeat;
        if (b.state === "RUNNING" && !ready.has(b.replicaId)) ready.set(b.replicaId, performance.now());
      },
    });
    const members = nc.subscribe(`${PREFIX}.members.fast.Worker`, {
      callback: (_e, m) => {
        for (const r of (decode(m.data) as MembershipSnapshot).replicas) {
          if (!routable.has(r.replicaId)) routable.set(r.replicaId, performance.now());
        }
      },
    });
    await h.cluster.client.deploy(deployRequest("fast", "worker", { numReplicas: 5 }));
    await waitForRunning(h.cluster, "fast", "Worker", 5);
    await waitUntil(() => routable.size === 5, { timeoutMs: 5000, message: "5 replicas routable" });
    hb.unsubscribe();
    members.unsubscribe();
    const lat = [...routable].map(([id, at]) => at - ready.get(id)!).sort((a, b) => a - b);
    console.log(`READY → membership broadcast latencies (ms): ${lat.map((x) => x.toFixed(1)).join(", ")}`);
    expect(lat).toHaveLength(5);
    expect(Math.max(...lat)).toBeLessThanOrEqual(100);
  });

  it("replaces the replicas of an agent that died on the surviving agent", async () => {
    await using h = await startHarness(2);
    await h.cluster.client.deploy(deployRequest("live", "worker", { numReplicas: 4 }));
    const before = await waitForRunning(h.cluster, "live", "Worker", 4);
    const [nodeA, nodeB] = h.cluster.nodeIds;
    expect(before.replicas.filter((r) => r.nodeId === nodeB).length).toBe(2);
    process.kill(h.cluster.pids.agents[1]!, "SIGKILL");
    const after = await waitUntil(
      async () => {
        const s = await h.cluster.client.status();
        const d = deploymentStatus(s, "live", "Worker");
        const onA = d?.replicas.filter((r) => r.state === "RUNNING" && r.nodeId === nodeA).length ?? 0;
        return onA === 4 && d!.replicas.length === 4 && !s.nodes.some((n) => n.nodeId === nodeB)
          ? d
          : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 200, message: "4 replicas on the surviving agent" },
    );
    const keptIds = before.replicas.filter((r) => r.nodeId === nodeA).map((r) => r.replicaId);
    for (const id of keptIds) expect(after.replicas.some((r) => r.replicaId === id)).toBe(true);
  });

  it("replaces a crashed replica at once and a frozen one after its heartbeat timeout", async () => {
    await using h = await startHarness(1);
    await h.cluster.client.deploy(deployRequest("crash", "worker", { numReplicas: 2 }));
    const before = await waitForRunning(h.cluster, "crash", "Worker", 2);
    const [victim, frozen] = before.replicas;
    const replaced = async (gone: string, timeoutMs: number): Promise<number> => {
      const t0 = Date.now();
      await waitUntil(
        async () => {
          const d = deploymentStatus(await h.cluster.client.status(), "crash", "Worker");
          const running = d?.replicas.filter((r) => r.state === "RUNNING") ?? [];
          return running.length === 2 && !running.some((r) => r.replicaId === gone);
        },
        { timeoutMs, intervalMs: 50, message: `replica ${gone} replaced` },
      );
      return Date.now() - t0;
    };
    // A crash is reported by the agent at once.
    process.kill(victim!.pid, "SIGKILL");
    const crashMs = await replaced(victim!.replicaId, 10_000);
    // A frozen process sends no heartbeats: presumed lost after heartbeatTimeoutS (2 s), killed, replaced.
    process.kill(frozen!.pid, "SIGSTOP");
    try {
      const frozenMs = await replaced(frozen!.replicaId, 15_000);
      console.log(`crashed replica replaced in ${crashMs} ms, frozen one in ${frozenMs} ms`);
      expect(frozenMs).toBeGreaterThanOrEqual(1500);
      await waitUntil(
        () => {
          try {
            process.kill(frozen!.pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        { timeoutMs: 5000, message: "the frozen replica was killed by its agent" },
      );
    } finally {
      try {
        process.kill(frozen!.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    expect(crashMs).toBeLessThan(5000);
  });

  it("answers malformed requests with BAD_REQUEST and keeps serving", async () => {
    await using h = await startHarness(1);
    const nc = h.client.nc;
    const ask = async (op: string, body: Uint8Array): Promise<any> =>
      decode((await nc.request(controllerSubject(PREFIX, op), body, { timeout: 5000 })).data);
    const garbage = await ask("deploy", new Uint8Array([0xc1, 0xff, 0x00]));
    expect(garbage).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    const shape = await ask("deploy", encode({ applications: [{ name: "x" }] }));
    expect(shape.ok).toBe(false);
    expect(shape.error.code).toBe("BAD_REQUEST");
    expect(shape.error.message).toContain("applications[0].importPath");
    const unknown = await ask("members", encode({ app: "ghost", deployment: "D" }));
    expect(unknown.error.code).toBe("DEPLOYMENT_NOT_FOUND");
    expect((await h.cluster.client.status()).applications).toEqual([]);
  });
});
