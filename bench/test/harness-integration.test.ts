import { fileURLToPath } from "node:url";
import { connect as natsConnect } from "nats";
import { describe, expect, it } from "vitest";
import { connect, staticMembership } from "@tsserve/handle";
import { DEFAULT_PREFIX, requestSubject } from "@tsserve/protocol/internal";
import { startNatsServer } from "@tsserve/test-utils";
import { measureInterleaved } from "../harness/interleaved-runs.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { rawDispatcherMode } from "../harness/raw-dispatcher.js";
import { rawRequestMode } from "../harness/raw-nats.js";
import { balanceSuite } from "../suites/balance.js";

const benchDir = fileURLToPath(new URL("..", import.meta.url));

describe("bench harness against a real nats-server and replica processes", () => {
  it("measures raw NATS and a handle on the same replica, with CPU from /proc for every process", async () => {
    await using nats = await startNatsServer({ jetstream: false });
    const set = await startLocalReplicas({
      address: nats.url,
      app: "bench-test",
      deployment: "Noop",
      importPath: "fixtures/bench-apps.ts#noop",
      cwd: benchDir,
      count: 1,
    });
    const raw = await natsConnect({ servers: nats.url, noAsyncTraces: true });
    const client = await connect({ address: nats.url });
    try {
      const subjects = set.replicas.map((r) =>
        requestSubject(DEFAULT_PREFIX, "bench-test", "Noop", r.replicaId),
      );
      const handle = client.getDeploymentHandle("Noop", {
        app: "bench-test",
        membership: staticMembership({ replicas: set.replicas, config: { maxOngoingRequests: 1024 } }),
      });
      const capped = rawDispatcherMode(raw, subjects, { perResponder: 2, args: [{ x: 1 }] });
      const ms = await measureInterleaved(
        [
          rawDispatcherMode(raw, subjects),
          capped,
          rawRequestMode(raw, subjects),
          { name: "handle", call: () => handle.remote() },
        ],
        {
          concurrency: 4,
          rounds: 2,
          sliceMs: 150,
          warmupMs: 50,
          cpuGroups: { client: [process.pid], replicas: set.pids, server: [nats.pid] },
        },
      );
      expect(ms.map((m) => m.mode)).toEqual([
        "dispatcher uncapped",
        "dispatcher capped (FIFO, 2/replica)",
        "raw request()",
        "handle",
      ]);
      // 4 callers, 2 slots: the capped dispatcher filled its cap and never went past it.
      expect(capped.peakInFlight).toEqual([2]);
      for (const m of ms) {
        expect(m.errors).toEqual({});
        expect(m.ok).toBeGreaterThan(20);
        expect(m.latencyUs.p99).toBeGreaterThanOrEqual(m.latencyUs.p50);
        expect(m.cpuUsPerCall).not.toBeNull();
        expect(m.cpuUsPerCall!).toBeGreaterThan(0);
        for (const g of ["client", "replicas", "server"]) expect(m.cpuSeconds[g]).not.toBeNull();
      }
    } finally {
      await client.close();
      await raw.close();
      await set.stop();
    }
  });

  it("fails fast, naming the replica, when a replica cannot start", async () => {
    await using nats = await startNatsServer({ jetstream: false });
    await expect(
      startLocalReplicas({
        address: nats.url,
        app: "bench-test",
        deployment: "Missing",
        importPath: "fixtures/bench-apps.ts#noop",
        cwd: benchDir,
        count: 1,
        readyTimeoutMs: 30_000,
      }),
    ).rejects.toThrow(/Missing-r0|exited/);
  });
});

describe("balance suite", () => {
  it("places sessions with the real router for every (V, N) and meets max/mean at V=100, N=16", async () => {
    const r = await balanceSuite.run({ quick: true, address: null, benchDir, log: () => {} });
    expect(r.rows).toHaveLength(3 * 7);
    const v1 = r.rows.find((x) => x["replicas"] === 16 && x["virtualNodes"] === 1)!;
    const v500 = r.rows.find((x) => x["replicas"] === 16 && x["virtualNodes"] === 500)!;
    expect(Number(v500["cv"])).toBeLessThan(Number(v1["cv"]));
    expect(r.targets[0]!.met).toBe(true);
  });
});
