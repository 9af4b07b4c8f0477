import { connect as natsConnect } from "nats";
import { connect, staticMembership, type HandleMetricsSink } from "@tsserve/handle";
import {
  DEFAULT_PREFIX,
  decodeReply,
  encodeRequest,
  ReplyKind,
  requestSubject,
} from "@tsserve/protocol/internal";
import { isBackPressureError } from "@tsserve/protocol";
import { benchNats } from "../harness/bench-nats.js";
import { groupedBars } from "../harness/charts.js";
import { runClosedLoop } from "../harness/closed-loop.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { runOpenLoop } from "../harness/open-loop.js";
import { percentiles, round } from "../harness/stats.js";
import type { Row, Suite, SuiteContext, SuiteResult, TargetCheck } from "../harness/suite.js";

const APP = "bench-bp";
const DEPLOYMENT = "FixedWork";
const REPLICAS = 2;
const MAX_ONGOING = 4;
const SERVICE_MS = 20;

/** Counts what the handle reports: replica rejections (each one is followed by a retry) and sends. */
class RoutingCounter implements HandleMetricsSink {
  routed = 0;
  rejected = 0;
  requestRouted(): void {
    this.routed++;
  }
  requestRejected(): void {
    this.rejected++;
  }
  reset(): void {
    this.routed = 0;
    this.rejected = 0;
  }
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const cfg = ctx.quick ? { windowMs: 3000, capacityMs: 1500 } : { windowMs: 6000, capacityMs: 3000 };
  const queueLimit = 2 * REPLICAS * MAX_ONGOING;
  const theory = (REPLICAS * MAX_ONGOING * 1000) / SERVICE_MS;
  await using nats = await benchNats(ctx);
  const set = await startLocalReplicas({
    address: nats.url,
    app: APP,
    deployment: DEPLOYMENT,
    importPath: "fixtures/bench-apps.ts#fixedWork",
    cwd: ctx.benchDir,
    count: REPLICAS,
    options: { maxOngoingRequests: MAX_ONGOING },
  });
  const counter = new RoutingCounter();
  const raw = await natsConnect({ servers: nats.url, noAsyncTraces: true });
  const client = await connect({ address: nats.url, metrics: counter });
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  try {
    // The limit: exactly maxOngoingRequests raw callers pinned to each replica are never rejected
    // and keep every slot busy, so their throughput is what the replicas can do. Measured before
    // and after the overload runs (a shared machine drifts) and averaged.
    const subjects = set.replicas.map((r) => requestSubject(DEFAULT_PREFIX, APP, DEPLOYMENT, r.replicaId));
    let seq = 0;
    const measureCapacity = async (label: string): Promise<number> => {
      const cap = await runClosedLoop(
        async (w) => {
          const body = encodeRequest({
            requestId: `cap-${++seq}`,
            method: "__call__",
            args: [SERVICE_MS],
            sessionId: null,
            stream: false,
          });
          const reply = decodeReply(
            (await raw.request(subjects[w % REPLICAS]!, body, { timeout: 10_000 })).data,
          );
          if (reply.kind !== ReplyKind.OK) throw new Error(`capacity probe got reply kind ${reply.kind}`);
        },
        { concurrency: REPLICAS * MAX_ONGOING, durationMs: cfg.capacityMs },
      );
      const capLat = percentiles(cap.latenciesUs);
      rows.push({
        scenario: `capacity ${label} (raw NATS, pinned callers)`,
        offeredPerSec: null,
        offered: cap.ok,
        ok: cap.ok,
        backPressure: 0,
        otherErrors: Object.values(cap.errors).reduce((a, b) => a + b, 0),
        lost: 0,
        rejections: 0,
        goodputPerSec: Math.round(cap.throughput),
        goodputVsCapacity: null,
        p50Ms: round(capLat.p50 / 1000, 1),
        p99Ms: round(capLat.p99 / 1000, 1),
      });
      ctx.log(`capacity ${label}: ${Math.round(cap.throughput)} req/s (theory ${theory})`);
      return cap.throughput;
    };
    const capacityBefore = await measureCapacity("before");
    const scenarios: { row: Row; goodput: number }[] = [];

    for (const maxQueued of [-1, queueLimit]) {
      const membership = staticMembership({
        replicas: set.replicas,
        config: {
          maxOngoingRequests: MAX_ONGOING,
          maxQueuedRequests: maxQueued,
          requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
        },
      });
      const handle = client.getDeploymentHandle(DEPLOYMENT, { app: APP, membership });
      counter.reset();
      const rate = 2 * capacityBefore;
      ctx.log(`offering ${Math.round(rate)} req/s for ${cfg.windowMs} ms, maxQueuedRequests=${maxQueued}`);
      const r = await runOpenLoop(() => handle.remote(SERVICE_MS), {
        ratePerSec: rate,
        durationMs: cfg.windowMs,
        drainTimeoutMs: cfg.windowMs * 2 + 10_000,
        classify: (e) =>
          isBackPressureError(e) ? "BackPressureError" : e instanceof Error ? e.name : String(e),
      });
      const lat = percentiles(r.latenciesUs);
      const bp = r.errors["BackPressureError"] ?? 0;
      const other = Object.values(r.errors).reduce((a, b) => a + b, 0) - bp;
      const goodput = (r.okInWindow * 1000) / r.windowMs;
      const label = maxQueued === -1 ? "handle, unbounded queue" : `handle, maxQueuedRequests=${maxQueued}`;
      const row: Row = {
        scenario: label,
        offeredPerSec: Math.round((r.offered * 1000) / r.windowMs),
        offered: r.offered,
        ok: r.ok,
        backPressure: bp,
        otherErrors: other,
        lost: r.outstanding,
        rejections: counter.rejected,
        goodputPerSec: Math.round(goodput),
        goodputVsCapacity: null,
        p50Ms: round(lat.p50 / 1000, 1),
        p99Ms: round(lat.p99 / 1000, 1),
      };
      rows.push(row);
      scenarios.push({ row, goodput });
      const accounted = r.ok + bp + other + r.outstanding === r.offered;
      targets.push({
        name: `requests lost (${label})`,
        target: "0, every request accounted for",
        measured: `${r.outstanding} lost; ${r.offered} offered = ${r.ok} ok + ${bp} back-pressure + ${other} other`,
        met: r.outstanding === 0 && other === 0 && accounted,
        ...(r.outstanding === 0 && other === 0
          ? {}
          : {
              note: "requests neither answered nor failed within the drain time point at a lost wake-up in the routing loop",
            }),
      });
    }
    const capacity = (capacityBefore + (await measureCapacity("after"))) / 2;
    const goodputTargets: TargetCheck[] = [];
    for (const { row, goodput } of scenarios) {
      row["goodputVsCapacity"] = round(goodput / capacity, 3);
      const good = goodput / capacity >= 0.9;
      goodputTargets.push({
        name: `goodput ÷ capacity at 2× load (${String(row["scenario"])})`,
        target: "≥ 0.90",
        measured: (goodput / capacity).toFixed(2),
        met: good,
        ...(good
          ? {}
          : {
              note: "replicas sat idle while requests backed off; a handle-side queue that wakes a waiting request when a reply frees a slot would close it",
            }),
      });
    }
    targets.unshift(...goodputTargets);
  } finally {
    await client.close();
    await raw.close();
    await set.stop();
  }
  const bpRow = rows.find((r) => String(r["scenario"]).includes("maxQueuedRequests")) ?? {};
  return {
    summary:
      `${REPLICAS} replicas, each with maxOngoingRequests = ${MAX_ONGOING} and a ${SERVICE_MS} ms service time (theory: ${theory} req/s). ` +
      "Capacity is measured in the same run, before and after the overload runs (averaged), with raw NATS callers pinned one per slot (they are never rejected). Then an open-loop generator offers " +
      "twice that rate through a handle, once with an unbounded handle queue and once with maxQueuedRequests; every request " +
      "is accounted for as ok, BackPressureError, another error, or lost (unanswered after the drain time). Rejections are " +
      "replica REJECTED replies reported by the handle's metrics sink; each is followed by a retry.",
    config: {
      ...cfg,
      replicas: REPLICAS,
      maxOngoingRequests: MAX_ONGOING,
      serviceMs: SERVICE_MS,
      maxQueuedRequests: queueLimit,
    },
    columns: [
      { key: "scenario", label: "scenario" },
      { key: "offeredPerSec", label: "offered req/s" },
      { key: "offered", label: "offered" },
      { key: "ok", label: "ok" },
      { key: "backPressure", label: "BackPressureError" },
      { key: "otherErrors", label: "other errors" },
      { key: "lost", label: "lost" },
      { key: "rejections", label: "replica rejections (= retries)" },
      { key: "goodputPerSec", label: "goodput req/s" },
      { key: "goodputVsCapacity", label: "goodput ÷ capacity", digits: 2 },
      { key: "p50Ms", label: "p50 ms", digits: 1 },
      { key: "p99Ms", label: "p99 ms", digits: 1 },
    ],
    rows,
    targets,
    charts: [
      {
        name: "accounting",
        title: "Where every offered request went",
        spec: groupedBars({
          title: "Requests by outcome at 2× capacity",
          values: rows.slice(1).flatMap((r) =>
            (["ok", "backPressure", "otherErrors", "lost"] as const).map((k) => ({
              scenario: r["scenario"],
              outcome: k,
              count: r[k],
            })),
          ),
          x: "scenario",
          xTitle: "",
          y: "count",
          yTitle: "requests",
          color: "outcome",
        }),
      },
    ],
    notes: [
      `BackPressureError rate with maxQueuedRequests=${queueLimit}: ${(((Number(bpRow["backPressure"]) || 0) / Math.max(1, Number(bpRow["offered"]))) * 100).toFixed(1)} % of offered requests (about half is expected at 2× load).`,
      "With an unbounded queue the backlog grows for the whole window, so its p99 is about the window length: that is the point of maxQueuedRequests.",
    ],
  };
}

/** Suite 5: behaviour at twice the capacity. */
export const backPressureSuite: Suite = {
  name: "back-pressure",
  title: "5. Back-pressure at 2× capacity",
  question:
    "What happens when offered load is twice what the replicas can serve? Target: goodput ≥ 90 % of capacity, zero lost requests, and with maxQueuedRequests a BackPressureError for the excess.",
  run,
};
