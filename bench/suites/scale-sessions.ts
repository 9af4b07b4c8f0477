import { performance } from "node:perf_hooks";
import { connect, promHandleMetricsSink, staticMembership, type DeploymentHandle } from "@tsserve/handle";
import { DEFAULT_MAX_ONGOING_REQUESTS } from "@tsserve/protocol/internal";
import { benchNats } from "../harness/bench-nats.js";
import { lines } from "../harness/charts.js";
import { settledHeapBytes } from "../harness/heap.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { startCpuWindow } from "../harness/proc-cpu.js";
import { round } from "../harness/stats.js";
import type { Column, Row, Suite, SuiteContext, SuiteResult, TargetCheck } from "../harness/suite.js";

const APP = "bench-scale-sessions";
const DEPLOYMENT = "Noop";
const CONCURRENCY = 64;
/** The bound the handle must keep: heap growth from the first point to the last, bytes. */
const MAX_GROWTH_BYTES = 1 << 20;

const COLUMNS: Column[] = [
  { key: "sessions", label: "distinct sessions seen" },
  { key: "heapMb", label: "heap MB (after GC)", digits: 2 },
  { key: "growthKb", label: "growth since first point KB", digits: 1 },
  { key: "bytesPerSession", label: "growth ÷ sessions added, bytes", digits: 3 },
  { key: "rssMb", label: "RSS MB", digits: 1 },
  { key: "reqPerSec", label: "req/s (this step)" },
  { key: "clientCpuUs", label: "client CPU µs/call (this step)", digits: 1 },
  { key: "errors", label: "errors" },
];

/** Calls `handle` once per session id u<from>…u<to−1> with `CONCURRENCY` callers; returns errors. */
async function callSessions(handle: DeploymentHandle, from: number, to: number): Promise<number> {
  let next = from;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const n = next++;
      try {
        await handle.options({ sessionId: `u${n}` }).remote();
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return errors;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const points = ctx.quick ? [1000, 10_000, 50_000] : [1000, 10_000, 100_000, 1_000_000];
  await using nats = await benchNats(ctx);
  const set = await startLocalReplicas({
    address: nats.url,
    app: APP,
    deployment: DEPLOYMENT,
    importPath: "fixtures/bench-apps.ts#noop",
    cwd: ctx.benchDir,
    count: 2,
    options: { maxOngoingRequests: DEFAULT_MAX_ONGOING_REQUESTS },
  });
  // The process-wide Prometheus sink, as the proxy uses: its labels are part of what is kept.
  const client = await connect({ address: nats.url, metrics: promHandleMetricsSink() });
  const rows: Row[] = [];
  try {
    const handle = client.getDeploymentHandle(DEPLOYMENT, {
      app: APP,
      membership: staticMembership({
        replicas: set.replicas,
        config: {
          maxOngoingRequests: DEFAULT_MAX_ONGOING_REQUESTS,
          requestRouter: { class: "ConsistentHash", kwargs: {} },
        },
      }),
    });
    // Warm-up on other session ids: JIT, connection buffers and metric series reach steady size.
    await callSessions(handle, -5000, 0);
    let seen = 0;
    let firstHeap = 0;
    for (const target of points) {
      ctx.log(`sessions ${seen} → ${target}`);
      const window = startCpuWindow({ client: [process.pid] });
      const t0 = performance.now();
      const errors = await callSessions(handle, seen, target);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = window.stop()["client"] ?? null;
      const calls = target - seen;
      seen = target;
      const heap = await settledHeapBytes();
      if (rows.length === 0) firstHeap = heap;
      const added = target - points[0]!;
      rows.push({
        sessions: target,
        heapMb: round(heap / 2 ** 20, 2),
        growthKb: round((heap - firstHeap) / 1024, 1),
        bytesPerSession: added === 0 ? null : round((heap - firstHeap) / added, 3),
        rssMb: round(process.memoryUsage().rss / 2 ** 20, 1),
        reqPerSec: Math.round(calls / seconds),
        clientCpuUs: cpu === null ? null : round((cpu * 1e6) / calls, 1),
        errors,
      });
    }
  } finally {
    await client.close();
    await set.stop();
  }
  const last = rows[rows.length - 1]!;
  const growth = Number(last["growthKb"]) * 1024;
  const met = growth <= MAX_GROWTH_BYTES;
  const targets: TargetCheck[] = [
    {
      name: `one handle's heap growth from ${points[0]!.toLocaleString("en-US")} to ${points[points.length - 1]!.toLocaleString("en-US")} distinct sessions`,
      target: `≤ ${MAX_GROWTH_BYTES / 1024} KB (bounded: nothing kept per session)`,
      measured: `${Number(last["growthKb"]).toFixed(1)} KB (${Number(last["bytesPerSession"]).toFixed(3)} B/session)`,
      met,
      ...(met
        ? {}
        : { note: "something in the handle keeps state per session: find it with a heap snapshot" }),
    },
  ];
  return {
    summary:
      `One ConsistentHash handle (its own client, the process-wide Prometheus handle sink) calls 2 no-op replicas at ` +
      `the defaults (\`maxOngoingRequests\` 5) from ${CONCURRENCY} callers, every call with a new session id ` +
      `(u0, u1, …), until ${points.map((p) => p.toLocaleString("en-US")).join(", ")} distinct sessions were seen. ` +
      "At each point the bench process collects garbage fully (`gc()` three times) and reads `heapUsed`: the " +
      "growth from the first point, divided by the sessions added, is what the handle keeps per session. The " +
      "load loop keeps nothing per call, so the growth is the handle's (and the NATS client's) own.",
    config: {
      points,
      concurrency: CONCURRENCY,
      replicas: 2,
      maxOngoingRequests: DEFAULT_MAX_ONGOING_REQUESTS,
    },
    columns: COLUMNS,
    rows,
    targets,
    charts: [
      {
        name: "heap",
        title: "Handle heap vs distinct sessions seen",
        spec: lines({
          title: "heap MB after GC vs distinct sessions seen",
          values: rows.map((r) => ({ ...r, series: "heap after GC" })),
          x: "sessions",
          xTitle: "distinct sessions seen (log)",
          y: "heapMb",
          yTitle: "heap MB",
          color: "series",
          logX: true,
        }),
      },
    ],
    notes: [
      "What a handle keeps is per replica (ring points, load counts, probe state), per call in flight or " +
        "waiting (the pending request, its owner-patience entry until it leaves) and per deployment " +
        "(metric series labelled app, deployment, rank, outcome): never per session. The ConsistentHash router " +
        "hashes the session id on every call instead of caching its owner.",
    ],
  };
}

/** Scale suite 2: distinct sessions 1k → 1M through one handle, heap per session. */
export const scaleSessionsSuite: Suite = {
  name: "scale-sessions",
  title: "Scale: distinct sessions through one handle",
  question:
    "Does one handle keep bounded memory as it sees 1,000 → 1,000,000 distinct sessions? Target: heap " +
    "growth from the first to the last point ≤ 1 MB (nothing kept per session).",
  run,
};
