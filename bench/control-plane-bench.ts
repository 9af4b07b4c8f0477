/**
 * Control-plane bench: how fast does a new replica become routable, and what does membership cost
 * at 1,000 replicas?
 *
 *   npx tsx bench/control-plane-bench.ts [--quick]
 *
 * (a) READY → routable: a real local cluster (embedded nats-server, controller, one agent) scales a
 *     deployment up step by step; for every new replica, the time from its READY heartbeat to the
 *     moment a controller-backed handle's replica set includes it. Target: p99 <= 100 ms.
 * (b) Membership at 1,000 replicas: a fake agent in this process "hosts" 1,000 replica ids (it
 *     answers the controller's start commands and heartbeats for each), so a real controller builds
 *     a 1,000-replica RUNNING set without 1,000 processes. Reports the broadcast size and the time
 *     to encode and decode it.
 *
 * Needs `pnpm build` first. Prints a table and writes bench/results/control-plane.json. About 60 s.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { connect as natsConnect, type NatsConnection } from "nats";
import { connect, controllerMembership, type MembershipSource } from "@tsserve/handle";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { echoApplication } from "../packages/cluster/test/fixtures/echo-application.js";
import {
  decode,
  encode,
  membersSubject,
  subjectPattern,
  VERBS,
  type ApplicationSpec,
  type MembershipSnapshot,
  type ReplicaHeartbeat,
} from "@tsserve/protocol/internal";
import { fakeAgent } from "./harness/fake-agent.js";

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 10 : 30;
const PART_A_BUDGET_MS = quick ? 20_000 : 40_000;
const FAKE_REPLICAS = 1000;
const TARGET_P99_MS = 100;

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const waitFor = <T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  message: string,
): Promise<NonNullable<T>> => waitUntil(check, { timeoutMs, intervalMs: 5, message });

/** The cluster tests' Echo fixture deployment with `numReplicas` replicas and 1 s heartbeats. */
function echoApp(name: string, numReplicas: number): ApplicationSpec {
  return echoApplication(name, { numReplicas, heartbeatPeriodS: 1 });
}

/** Timestamps every replica set a handle is given. */
function recording(inner: MembershipSource, onSet: (ids: string[], at: number) => void): MembershipSource {
  return {
    subscribe: (listener) =>
      inner.subscribe({
        onUpdate(update) {
          onSet(
            update.replicas.map((r) => r.replicaId),
            performance.now(),
          );
          listener.onUpdate(update);
        },
        onError: (e) => listener.onError(e),
      }),
    refresh: () => inner.refresh?.(),
  };
}

interface PartA {
  samples: number;
  readyToRoutableMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  targetP99Ms: number;
  pass: boolean;
  raw: number[];
}

/** (a) Scale up step by step; per new replica: READY heartbeat → in the handle's replica set. */
async function readyToRoutable(cluster: LocalCluster): Promise<PartA> {
  const app = "cpa";
  const ready = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const nc = await natsConnect({ servers: cluster.address });
  nc.subscribe(subjectPattern(cluster.prefix, VERBS.heartbeat, app, "Echo", "*"), {
    callback: (_e, m) => {
      const hb = decode(m.data) as ReplicaHeartbeat;
      if (hb.state === "RUNNING" && !ready.has(hb.replicaId)) ready.set(hb.replicaId, performance.now());
    },
  });
  await nc.flush();
  await cluster.client.deploy({ applications: [echoApp(app, 1)] });
  const client = await connect({ address: cluster.address, prefix: cluster.prefix });
  let current: string[] = [];
  const membership = recording(
    controllerMembership({ nc: client.nc, prefix: cluster.prefix, app, deployment: "Echo" }),
    (ids, at) => {
      current = ids;
      for (const id of ids) if (!firstSeen.has(id)) firstSeen.set(id, at);
    },
  );
  const handle = client.getDeploymentHandle("Echo", { app, membership });
  await handle.options({ timeoutMs: 30_000 }).remote("warm-up");
  const samples: number[] = [];
  const deadline = Date.now() + PART_A_BUDGET_MS;
  const STEP = 2;
  const TOP = 7;
  try {
    while (samples.length < SAMPLES && Date.now() < deadline) {
      // 1 → 3 → 5 → 7, then back to 1: each step starts STEP replicas, each one a sample.
      for (let n = 1 + STEP; n <= TOP && samples.length < SAMPLES; n += STEP) {
        const before = new Set(current);
        await cluster.client.deploy({ applications: [echoApp(app, n)] });
        const fresh = await waitFor(
          () => {
            const added = current.filter((id) => !before.has(id));
            return added.length >= STEP ? added : undefined;
          },
          30_000,
          `${n} replicas in the handle's set`,
        );
        for (const id of fresh) {
          const r = ready.get(id);
          const s = firstSeen.get(id);
          if (r !== undefined && s !== undefined) samples.push(s - r);
        }
      }
      await cluster.client.deploy({ applications: [echoApp(app, 1)] });
      await waitFor(() => (current.length === 1 ? true : undefined), 30_000, "scale-down to 1");
    }
  } finally {
    await client.close();
    await nc.close();
  }
  const p99 = quantile(samples, 0.99);
  return {
    samples: samples.length,
    readyToRoutableMs: {
      p50: quantile(samples, 0.5),
      p90: quantile(samples, 0.9),
      p99,
      max: Math.max(...samples),
      mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    },
    targetP99Ms: TARGET_P99_MS,
    pass: p99 <= TARGET_P99_MS,
    raw: samples.map((s) => Math.round(s * 100) / 100),
  };
}

interface PartB {
  replicas: number;
  deployToFullSetMs: number;
  broadcastBytes: number;
  broadcastsSeen: number;
  encodeMs: number;
  decodeMs: number;
  publishToReceiveMs: number;
}

/** (b) A real controller with a 1,000-replica RUNNING set hosted by one fake agent. */
async function membershipAtScale(cluster: LocalCluster): Promise<PartB> {
  const app = "cpb";
  const nc = await natsConnect({ servers: cluster.address });
  const agent = fakeAgent(nc, cluster.prefix, "fake-node");
  try {
    return await measureMembership(cluster, nc, app);
  } finally {
    agent.stop();
    await cluster.client.delete(app).catch(() => undefined);
    await nc.close();
  }
}

async function measureMembership(cluster: LocalCluster, nc: NatsConnection, app: string): Promise<PartB> {
  let last: { bytes: Uint8Array; at: number; count: number } | undefined;
  let broadcasts = 0;
  nc.subscribe(membersSubject(cluster.prefix, app, "Echo"), {
    callback: (_e, m) => {
      broadcasts++;
      const snap = decode(m.data) as MembershipSnapshot;
      last = { bytes: m.data, at: performance.now(), count: snap.replicas.length };
    },
  });
  await nc.flush();
  await waitFor(
    async () =>
      (await cluster.client.status()).nodes.some((n) => n.nodeId === "fake-node") ? true : undefined,
    10_000,
    "the fake agent in status",
  );
  const t0 = performance.now();
  await cluster.client.deploy({ applications: [echoApp(app, FAKE_REPLICAS)] });
  await waitFor(
    () => (last && last.count === FAKE_REPLICAS ? true : undefined),
    30_000,
    "a 1,000-replica broadcast",
  );
  const full = last!;
  const deployToFullSetMs = full.at - t0;

  const snapshot = decode(full.bytes) as MembershipSnapshot;
  const time = (fn: () => unknown): number => {
    for (let i = 0; i < 20; i++) fn();
    const runs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = performance.now();
      fn();
      runs.push(performance.now() - s);
    }
    return quantile(runs, 0.5);
  };
  const encodeMs = time(() => encode(snapshot));
  const decodeMs = time(() => decode(full.bytes));
  // Round trip of one full-size snapshot through the server: our own publish → our own receive.
  const probeSubject = `${cluster.prefix}.bench.members-size`;
  let arrived: (() => void) | undefined;
  const rtts: number[] = [];
  nc.subscribe(probeSubject, { callback: () => arrived?.() });
  await nc.flush();
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    const got = new Promise<void>((r) => (arrived = r));
    nc.publish(probeSubject, encode(snapshot));
    await got;
    rtts.push(performance.now() - s);
  }
  return {
    replicas: full.count,
    deployToFullSetMs,
    broadcastBytes: full.bytes.length,
    broadcastsSeen: broadcasts,
    encodeMs,
    decodeMs,
    publishToReceiveMs: quantile(rtts, 0.5),
  };
}

/** Runs one part on its own fresh local cluster; a failure is recorded, not thrown. */
async function part<T>(
  result: Record<string, unknown>,
  key: string,
  options: { stateDir: string; prefix: string; agents: number },
  run: (cluster: LocalCluster) => Promise<T>,
): Promise<T | undefined> {
  const cluster = await startLocalCluster({ ...options, natsPort: await freePort(), logs: "file" });
  try {
    return (result[key] = await run(cluster));
  } catch (e) {
    result[`${key}Error`] = (e as Error).message;
    return undefined;
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-cpbench-"));
  const result: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, quick };
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
  let pa: PartA | undefined;
  let pb: PartB | undefined;
  try {
    pa = await part(
      result,
      "readyToRoutable",
      { stateDir: join(stateDir, "a"), prefix: "cpa", agents: 1 },
      readyToRoutable,
    );
    pb = await part(
      result,
      "membership1000",
      { stateDir: join(stateDir, "b"), prefix: "cpb", agents: 0 },
      membershipAtScale,
    );
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }

  const rows: [string, string][] = [];
  if (pa) {
    const r = pa.readyToRoutableMs;
    rows.push([
      `READY → routable at a handle, ${pa.samples} samples`,
      `p50 ${fmt(r.p50)} ms, p90 ${fmt(r.p90)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms`,
    ]);
    rows.push([`target p99 <= ${TARGET_P99_MS} ms`, pa.pass ? "met" : "NOT met"]);
  } else rows.push(["READY → routable", `failed: ${String(result["readyToRoutableError"])}`]);
  if (pb) {
    rows.push([`RUNNING set of ${pb.replicas} replicas: broadcast size`, `${pb.broadcastBytes} bytes`]);
    rows.push(["encode / decode one broadcast (median)", `${fmt(pb.encodeMs)} ms / ${fmt(pb.decodeMs)} ms`]);
    rows.push([
      "publish → receive one broadcast via nats-server (median)",
      `${fmt(pb.publishToReceiveMs)} ms`,
    ]);
    rows.push([
      "deploy → 1,000-replica broadcast received",
      `${fmt(pb.deployToFullSetMs)} ms (${pb.broadcastsSeen} broadcasts seen)`,
    ]);
  } else rows.push(["membership at 1,000", `failed: ${String(result["membership1000Error"])}`]);
  console.log(
    ["\n| control plane | value |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n"),
  );

  const out = join(here, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "control-plane.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${join(out, "control-plane.json")}`);
}

await main();
