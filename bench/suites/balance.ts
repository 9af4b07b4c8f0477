import { randomBytes } from "node:crypto";
import { ConsistentHashRouter } from "@tsserve/handle";
import type { ReplicaInfo } from "@tsserve/protocol";
import { lines } from "../harness/charts.js";
import { coefficientOfVariation, maxOverMean, mean, round } from "../harness/stats.js";
import type { Row, Suite, SuiteContext, SuiteResult } from "../harness/suite.js";

const VIRTUAL_NODES = [1, 10, 50, 100, 200, 500];
const REPLICA_COUNTS = [4, 16, 64];

/** Random replica ids shaped like real ones, so each trial is a fresh ring. */
function randomIds(n: number): ReplicaInfo[] {
  return Array.from({ length: n }, () => ({
    replicaId: `Chat-${randomBytes(4).toString("hex")}`,
    nodeId: "bench",
  }));
}

/** Sessions per replica when the real ConsistentHashRouter places `sessions` session ids. */
function placeSessions(
  replicas: ReplicaInfo[],
  virtualNodes: number,
  sessions: number,
  trial: number,
): number[] {
  const router = new ConsistentHashRouter(
    { app: "bench", deployment: "Chat", maxOngoingRequests: 5, inFlight: () => 0 },
    { numVirtualNodes: virtualNodes },
  );
  router.updateReplicas(replicas);
  const index = new Map(replicas.map((r, i) => [r.replicaId, i]));
  const counts = new Array<number>(replicas.length).fill(0);
  for (let s = 0; s < sessions; s++) {
    const groups = router.chooseReplicas(replicas, {
      requestId: `q${s}`,
      sessionId: `user-${trial}-${s}`,
      method: "__call__",
      createdAt: 0,
    });
    const owner = groups[0]?.[0];
    if (!owner)
      throw new Error(
        `ConsistentHashRouter returned no owner for session ${s} (V=${virtualNodes}, N=${replicas.length})`,
      );
    counts[index.get(owner.replicaId)!]!++;
  }
  return counts;
}

/** The limit: sessions thrown uniformly at random (an ideal hash with infinitely many points). */
function uniformPlacement(n: number, sessions: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let s = 0; s < sessions; s++) counts[Math.floor(Math.random() * n)]!++;
  return counts;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const cfg = ctx.quick ? { trials: 3, sessionsPerReplica: 500 } : { trials: 10, sessionsPerReplica: 1000 };
  const rows: Row[] = [];
  for (const n of REPLICA_COUNTS) {
    const sessions = n * cfg.sessionsPerReplica;
    const sets = Array.from({ length: cfg.trials }, () => randomIds(n));
    for (const v of [...VIRTUAL_NODES, Number.POSITIVE_INFINITY]) {
      const mm: number[] = [];
      const cv: number[] = [];
      let worst = 0;
      sets.forEach((ids, t) => {
        const counts = Number.isFinite(v)
          ? placeSessions(ids, v, sessions, t)
          : uniformPlacement(n, sessions);
        mm.push(maxOverMean(counts));
        cv.push(coefficientOfVariation(counts));
        worst = Math.max(worst, maxOverMean(counts));
      });
      rows.push({
        replicas: n,
        virtualNodes: Number.isFinite(v) ? v : "∞ (uniform)",
        sessions,
        maxOverMean: round(mean(mm), 3),
        worstMaxOverMean: round(worst, 3),
        cv: round(mean(cv), 3),
      });
    }
    ctx.log(`N=${n} done`);
  }
  const cell = rows.find((r) => r["replicas"] === 16 && r["virtualNodes"] === 100);
  const mm = Number(cell?.["maxOverMean"]);
  const chartRows = rows.filter((r) => typeof r["virtualNodes"] === "number").map((r) => ({ ...r }));
  return {
    summary:
      `Sessions per replica when the real \`ConsistentHashRouter\` places ${cfg.sessionsPerReplica} sessions per replica, ` +
      `averaged over ${cfg.trials} random sets of replica ids per (V, N). The row V = ∞ is the limit: sessions thrown ` +
      "uniformly at random, so what remains there is sampling noise, not the ring.",
    config: { ...cfg, virtualNodes: VIRTUAL_NODES, replicaCounts: REPLICA_COUNTS },
    columns: [
      { key: "replicas", label: "N replicas" },
      { key: "virtualNodes", label: "V virtual nodes" },
      { key: "sessions", label: "sessions" },
      { key: "maxOverMean", label: "max/mean (avg)", digits: 3 },
      { key: "worstMaxOverMean", label: "max/mean (worst set)", digits: 3 },
      { key: "cv", label: "CV (avg)", digits: 3 },
    ],
    rows,
    targets: [
      {
        name: "max/mean sessions per replica at V=100, N=16",
        target: "≤ 1.35",
        measured: Number.isFinite(mm) ? mm.toFixed(3) : "n/a",
        met: mm <= 1.35,
        ...(mm <= 1.35
          ? {}
          : {
              note: "more virtual nodes (V=200 halves the spread's variance) or bounded loads (loadBound) would close it",
            }),
      },
    ],
    charts: [
      {
        name: "cv",
        title: "Coefficient of variation of sessions per replica vs virtual nodes",
        spec: lines({
          title: "CV of sessions per replica (lower is more even)",
          values: chartRows,
          x: "virtualNodes",
          xTitle: "virtual nodes per replica (log)",
          y: "cv",
          yTitle: "coefficient of variation",
          color: "replicas",
          colorType: "ordinal",
          colorTitle: "N replicas",
          logX: true,
        }),
      },
      {
        name: "max-mean",
        title: "max/mean sessions per replica vs virtual nodes (dashed: target 1.35)",
        spec: lines({
          title: "max/mean sessions per replica",
          values: chartRows,
          x: "virtualNodes",
          xTitle: "virtual nodes per replica (log)",
          y: "maxOverMean",
          yTitle: "max / mean",
          color: "replicas",
          colorType: "ordinal",
          colorTitle: "N replicas",
          logX: true,
          rule: 1.35,
        }),
      },
    ],
    notes: ["Pure computation in the bench process: no NATS, no replicas. `--address` does not apply."],
  };
}

/** Suite 3: how evenly the ring spreads sessions as a function of virtual nodes. */
export const balanceSuite: Suite = {
  name: "balance",
  title: "3. Balance vs virtual nodes",
  question:
    "How evenly does ConsistentHash spread sessions over replicas for V ∈ {1, 10, 50, 100, 200, 500} virtual nodes and N ∈ {4, 16, 64} replicas? Target: max/mean ≤ 1.35 at V = 100, N = 16.",
  run,
};
