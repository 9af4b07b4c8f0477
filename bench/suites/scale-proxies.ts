import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { groupedBars } from "../harness/charts.js";
import { startCliHead, type CliHead } from "../harness/cli-head.js";
import { httpMode } from "../harness/ingress-clients.js";
import { measureInterleaved } from "../harness/interleaved-runs.js";
import { ratio, round } from "../harness/stats.js";
import type { Column, Row, Suite, SuiteContext, SuiteResult } from "../harness/suite.js";

const CONCURRENCY = 64;

const COLUMNS: Column[] = [
  { key: "proxies", label: "proxy processes" },
  { key: "reqPerSec", label: "req/s" },
  { key: "p50Us", label: "p50 µs" },
  { key: "p99Us", label: "p99 µs" },
  { key: "cpuUs", label: "CPU µs/req", digits: 1 },
  { key: "loadGenUs", label: "load gen", digits: 1 },
  { key: "ingressUs", label: "proxies (+ head)", digits: 1 },
  { key: "replicasUs", label: "replicas", digits: 1 },
  { key: "serverUs", label: "nats-server", digits: 1 },
  { key: "tputVsOne", label: "req/s ÷ 1 proxy", digits: 2 },
  { key: "sliceCv", label: "slice spread %", digits: 1 },
  { key: "errors", label: "errors" },
];

const perCall = (seconds: number | null | undefined, ok: number): number | null =>
  seconds === null || seconds === undefined || ok === 0 ? null : round((seconds * 1e6) / ok, 1);

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const counts = ctx.quick ? [1, 2] : [1, 2, 4];
  const cfg = ctx.quick
    ? { rounds: 1, sliceMs: 1000, warmupMs: 600, sliceWarmupMs: 300 }
    : { rounds: 5, sliceMs: 1500, warmupMs: 1000, sliceWarmupMs: 500 };
  const root = join(ctx.benchDir, "..");
  const heads: CliHead[] = [];
  const rows: Row[] = [];
  try {
    // One head per count, all up at once, so the counts take turns in slices (background load hits
    // them alike); the idle heads cost a little CPU each (heartbeats, route polls).
    ctx.log(`tsserve start --proxies ${counts.join(", ")}`);
    const started = await Promise.allSettled(counts.map((n) => startCliHead(root, ["--proxies", String(n)])));
    for (const s of started) if (s.status === "fulfilled") heads.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    await Promise.all(
      heads.map((h) => h.deploy(join(ctx.benchDir, "fixtures/scale-proxies.yaml"), ctx.benchDir)),
    );
    // Every proxy process polls its routes (1 s): let all of them learn /echo.
    await sleep(2000);
    const modes = heads.map((h, i) => httpMode(`${counts[i]} proxies`, `${h.httpUrl}/echo`, CONCURRENCY));
    const all = (f: (h: CliHead) => readonly number[]) => heads.flatMap(f);
    const ms = await measureInterleaved(modes, {
      concurrency: CONCURRENCY,
      ...cfg,
      cpuGroups: {
        client: [process.pid],
        ingress: all((h) => [h.pid, ...h.proxyPids]),
        replicas: all((h) => h.replicaPids),
        server: all((h) => (h.natsPid === null ? [] : [h.natsPid])),
      },
      // A head's descendants are its controller, agents, replicas, nats-server and proxies:
      // count the head itself only, the others in their own groups.
      cpuSelfOnly: all((h) => [h.pid, ...h.agentPids]),
    });
    for (const m of modes) m.close();
    const one = ms[0]!;
    ms.forEach((m, i) => {
      rows.push({
        proxies: counts[i]!,
        reqPerSec: Math.round(m.throughput),
        p50Us: Math.round(m.latencyUs.p50),
        p99Us: Math.round(m.latencyUs.p99),
        cpuUs: m.cpuUsPerCall === null ? null : round(m.cpuUsPerCall, 1),
        loadGenUs: perCall(m.cpuSeconds["client"], m.ok),
        ingressUs: perCall(m.cpuSeconds["ingress"], m.ok),
        replicasUs: perCall(m.cpuSeconds["replicas"], m.ok),
        serverUs: perCall(m.cpuSeconds["server"], m.ok),
        tputVsOne: round(ratio(m.throughput, one.throughput), 3),
        sliceCv: round(m.sliceCv * 100, 1),
        errors: Object.values(m.errors).reduce((a, b) => a + b, 0),
      });
    });
  } finally {
    for (const h of heads) await h.stop().catch((e: unknown) => ctx.log(`shutdown: ${(e as Error).message}`));
  }
  return {
    summary:
      `A head started with the CLI, \`tsserve start --proxies N\` for N = ${counts.join(", ")} (one head each, all up ` +
      "at once on their own ports), serving the ingress echo on 2 replicas at `maxOngoingRequests` 1024 (so the " +
      `proxies, not the slots, limit). ~100-byte JSON POSTed by ${CONCURRENCY} keep-alive connections from the bench ` +
      "process (closed loop); the head hands connections to its proxy workers in turn. The counts take turns in " +
      "slices. CPU per request from /proc: the load generator, the proxies (with the head, which holds the " +
      "socket; at N = 1 the proxy runs in it), the replicas and nats-server of every head (the idle heads add a " +
      "little).",
    config: { counts, concurrency: CONCURRENCY, ...cfg, replicas: 2, maxOngoingRequests: 1024 },
    columns: COLUMNS,
    rows,
    targets: [],
    charts: [
      {
        name: "throughput",
        title: "HTTP req/s by proxy processes",
        spec: groupedBars({
          title: `HTTP req/s at ${CONCURRENCY} connections by proxy processes`,
          values: rows.map((r) => ({ ...r, series: "req/s" })),
          x: "proxies",
          xTitle: "proxy processes (--proxies)",
          y: "reqPerSec",
          yTitle: "req/s",
          color: "series",
        }),
      },
    ],
    notes: [
      "On a 2-core machine the load generator, the replicas and nats-server share the cores with the proxies: " +
        "more proxy processes than cores cannot add throughput here; on a bigger machine the curve goes on.",
    ],
  };
}

/** Scale suite 4: HTTP ingress with 1 → N proxy processes on one machine. */
export const scaleProxiesSuite: Suite = {
  name: "scale-proxies",
  title: "Scale: HTTP proxy processes",
  question:
    "How does HTTP ingress scale with more than one proxy process on one machine (`tsserve start --proxies N`; " +
    "one proxy process is one core)? The curve 1 → N proxies with CPU per request.",
  run,
};
