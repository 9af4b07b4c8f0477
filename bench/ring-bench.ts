/**
 * ConsistentHash ring bench (no NATS): how fast is a lookup, how fast is a rebuild, and how evenly
 * do sessions spread for a given number of virtual nodes?
 *
 *   npx tsx bench/ring-bench.ts
 *
 * Prints Markdown tables and writes bench/results/ring.json. Bounded to about 20 s on 2 cores.
 * Targets (docs/design.md §5): lookup <= 2 µs at 1,000 replicas x 100 points; one replica joining a
 * 1,000-replica ring rebuilds in <= 20 ms.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReplicaInfo } from "@tsserve/protocol";
import { ConsistentHashRouter } from "../packages/handle/src/consistent-hash/consistent-hash-router.js";
import { CONSISTENT_HASH_SEED, hashKey } from "../packages/handle/src/consistent-hash/murmur3.js";
import type { RouterContext, RoutingRequest } from "../packages/handle/src/request-router.js";

const here = dirname(fileURLToPath(import.meta.url));
const murmurLib = createRequire(join(here, "../packages/handle/package.json"))("murmurhash3js-revisited") as {
  x64: { hash128(bytes: Uint8Array, seed: number): string };
};

const context: RouterContext = { app: "bench", deployment: "D", maxOngoingRequests: 5, inFlight: () => 0 };
const randomId = (): string => Math.random().toString(36).slice(2, 10).padEnd(8, "0");
const replicas = (n: number): ReplicaInfo[] =>
  Array.from({ length: n }, () => ({ replicaId: randomId(), nodeId: "n" }));
const request = (sessionId: string): RoutingRequest => ({
  requestId: "r",
  sessionId,
  method: "m",
  createdAt: 0,
});

/** Runs `fn(i)` in batches until `budgetMs` has passed; returns ns per call (after a warm-up). */
function nsPerCall(budgetMs: number, fn: (i: number) => void): number {
  for (let i = 0; i < 20_000; i++) fn(i);
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < budgetMs) {
    for (let i = 0; i < 10_000; i++) fn(calls + i);
    calls += 10_000;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / calls;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, d = 2): string => x.toFixed(d);

// ---- 1. lookup cost at 1,000 replicas x 100 points ----
const N_BIG = 1000;
const bigSet = replicas(N_BIG);
const router = new ConsistentHashRouter(context, { numVirtualNodes: 100, numFallbackReplicas: 2 });
router.updateReplicas(bigSet);
const keys = Array.from({ length: 4096 }, (_, i) => `user_${i}_${randomId()}`);
const reqs = keys.map(request);
const ring = router.hashRing;
const utf8 = new TextEncoder();
let sink = 0;
const lookup = {
  hashNs: nsPerCall(1500, (i) => hashKey(keys[i & 4095]!)),
  libraryHashNs: nsPerCall(1000, (i) => {
    sink += murmurLib.x64.hash128(utf8.encode(keys[i & 4095]!), CONSISTENT_HASH_SEED).length;
  }),
  ownerNs: nsPerCall(1500, (i) => {
    sink += ring.startIndexOfKey(keys[i & 4095]!);
  }),
  chooseReplicasNs: nsPerCall(2000, (i) => {
    sink += router.chooseReplicas(bigSet, reqs[i & 4095]!).length;
  }),
};
const bounded = new ConsistentHashRouter(context, { loadBound: 1.25 });
bounded.updateReplicas(bigSet);
const boundedNs = nsPerCall(1000, (i) => {
  sink += bounded.chooseReplicas(bigSet, reqs[i & 4095]!).length;
});

// ---- 2. rebuild cost ----
const initialMs: number[] = [];
const joinMs: number[] = [];
const leaveMs: number[] = [];
const timed = (fn: () => void): number => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
for (let trial = 0; trial < 5; trial++) {
  const set = replicas(N_BIG);
  const r = new ConsistentHashRouter(context);
  initialMs.push(timed(() => r.updateReplicas(set)));
  const joined = [...set, { replicaId: randomId(), nodeId: "n" }];
  joinMs.push(timed(() => r.updateReplicas(joined)));
  leaveMs.push(timed(() => r.updateReplicas(joined.slice(1))));
}
const rebuild = { initialMs: median(initialMs), joinMs: median(joinMs), leaveMs: median(leaveMs) };

// ---- 3. balance: sessions per replica ----
const SESSIONS = 20_000;
const SETS = 5;
const balance: { v: number; n: number; maxOverMean: number; cv: number }[] = [];
const sessionKeys = Array.from({ length: SESSIONS }, (_, i) => `sess_${i}`);
for (const n of [4, 16, 64]) {
  for (const v of [1, 10, 50, 100, 200, 500]) {
    let maxOverMean = 0;
    let cv = 0;
    for (let s = 0; s < SETS; s++) {
      const r = new ConsistentHashRouter(context, { numVirtualNodes: v });
      r.updateReplicas(replicas(n));
      const ring = r.hashRing;
      const counts = new Float64Array(ring.ids.length);
      for (const k of sessionKeys) counts[ring.owner[ring.startIndexOfKey(k)]!]!++;
      const mean = SESSIONS / ring.ids.length;
      const variance = counts.reduce((acc, c) => acc + (c - mean) ** 2, 0) / counts.length;
      maxOverMean += Math.max(...counts) / mean / SETS;
      cv += Math.sqrt(variance) / mean / SETS;
    }
    balance.push({ v, n, maxOverMean, cv });
  }
}

// ---- report ----
const out = [
  `## ConsistentHash ring (${N_BIG} replicas x 100 points = ${ring.size} points, K = 2)`,
  "",
  "| measure | value | target |",
  "|---|---|---|",
  `| hash one key (ours, 32-bit arithmetic) | ${fmt(lookup.hashNs, 0)} ns | |`,
  `| hash one key (murmurhash3js-revisited, for reference) | ${fmt(lookup.libraryHashNs, 0)} ns | |`,
  `| ring lookup: hash + binary search for the owner | ${fmt(lookup.ownerNs, 0)} ns | <= 2000 ns |`,
  `| chooseReplicas (owner + 2 fallbacks, ranked groups) | ${fmt(lookup.chooseReplicasNs, 0)} ns | <= 2000 ns |`,
  `| chooseReplicas with loadBound 1.25 (sums in-flight over all replicas) | ${fmt(boundedNs, 0)} ns | |`,
  `| initial build, ${N_BIG} replicas (median of 5) | ${fmt(rebuild.initialMs)} ms | |`,
  `| one replica joins a ${N_BIG}-replica ring (median of 5) | ${fmt(rebuild.joinMs)} ms | <= 20 ms |`,
  `| one replica leaves (median of 5) | ${fmt(rebuild.leaveMs)} ms | |`,
  "",
  `## Balance: ${SESSIONS} sessions, owner counts per replica, mean of ${SETS} random replica-id sets`,
  "",
  "| V (points per replica) | N=4 max/mean | N=4 CV | N=16 max/mean | N=16 CV | N=64 max/mean | N=64 CV |",
  "|---|---|---|---|---|---|---|",
  ...[1, 10, 50, 100, 200, 500].map((v) => {
    const cells = [4, 16, 64].map((n) => {
      const b = balance.find((x) => x.v === v && x.n === n)!;
      return `${fmt(b.maxOverMean)} | ${fmt(b.cv, 3)}`;
    });
    return `| ${v} | ${cells.join(" | ")} |`;
  }),
];
console.log(out.join("\n"));
const resultsDir = join(here, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, "ring.json"),
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      ring: { replicas: N_BIG, virtualNodes: 100, points: ring.size, fallbacks: 2 },
      lookupNs: { ...lookup, chooseReplicasLoadBoundNs: boundedNs },
      rebuildMs: rebuild,
      balance: { sessions: SESSIONS, replicaSets: SETS, rows: balance },
      sink,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${join(resultsDir, "ring.json")}`);
