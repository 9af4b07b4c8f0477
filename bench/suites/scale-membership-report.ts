import { lines } from "../harness/charts.js";
import type { Column, Row, SuiteResult, TargetCheck } from "../harness/suite.js";

/** Columns of the scale-membership table. */
export const MEMBERSHIP_COLUMNS: Column[] = [
  { key: "replicas", label: "replicas" },
  { key: "handles", label: "handles" },
  { key: "snapshotBytes", label: "broadcast bytes" },
  { key: "step", label: "scale-up" },
  { key: "upBroadcasts", label: "broadcasts until all hold it" },
  { key: "upBytesDelivered", label: "bytes delivered (all handles)" },
  { key: "upMs", label: "deploy → all hold it ms" },
  { key: "upControllerMs", label: "controller CPU ms", digits: 1 },
  { key: "upHandlesMs", label: "handles CPU ms", digits: 1 },
  { key: "upServerMs", label: "nats-server CPU ms", digits: 1 },
  { key: "steadyBroadcastsPerS", label: "steady broadcasts/s", digits: 2 },
  { key: "steadyBytesPerS", label: "steady bytes/s delivered" },
  { key: "steadyControllerMsPerS", label: "controller CPU ms/s", digits: 2 },
  { key: "steadyHandlesMsPerS", label: "handles CPU ms/s", digits: 2 },
  { key: "steadyServerMsPerS", label: "nats-server CPU ms/s", digits: 2 },
  { key: "handleUsPerBroadcast", label: "handle CPU µs per re-publish", digits: 1 },
  { key: "handleUsPerChange", label: "handle CPU µs per changed set", digits: 1 },
];

const LINEAR_SLACK = 2;

const num = (r: Row | undefined, k: string): number | null => {
  const v = r?.[k];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

/** `a ÷ b` of two per-unit costs as a target line ("linear at most": the ratio stays ≤ 2). */
function linear(name: string, a: number | null, b: number | null, note: string): TargetCheck {
  const value = a === null || b === null || b === 0 ? null : a / b;
  const met = value !== null && value <= LINEAR_SLACK;
  return {
    name,
    target: `≤ ${LINEAR_SLACK.toFixed(2)} (linear: the same cost per unit)`,
    measured: value === null ? "n/a" : value.toFixed(2),
    met,
    ...(met ? {} : { note: value === null ? "not measured (no broadcast in the window?)" : note }),
  };
}

/**
 * "Linear at most" as numbers: at the most handles, a handle's CPU per broadcast per replica at the
 * largest set against the next smaller one; at the largest set, the handles' CPU per second per
 * handle at the most handles against the next fewer; the controller's CPU per second per replica
 * (its steady work: heartbeats in, re-publishes out) at the largest set against the next smaller.
 */
export function membershipTargets(rows: readonly Row[]): TargetCheck[] {
  const rs = [...new Set(rows.map((r) => Number(r["replicas"])))].sort((a, b) => a - b);
  const hs = [...new Set(rows.map((r) => Number(r["handles"])))].sort((a, b) => a - b);
  if (rs.length < 2 || hs.length < 2) return [];
  const [r1, r2] = [rs[rs.length - 2]!, rs[rs.length - 1]!];
  const [h1, h2] = [hs[hs.length - 2]!, hs[hs.length - 1]!];
  const at = (r: number, h: number) => rows.find((x) => x["replicas"] === r && x["handles"] === h);
  const perReplica = (r: number, h: number, k: string) => {
    const v = num(at(r, h), k);
    return v === null ? null : v / r;
  };
  const perHandle = (r: number, h: number, k: string) => {
    const v = num(at(r, h), k);
    return v === null ? null : v / h;
  };
  return [
    linear(
      `handle CPU per changed set per replica, ${r2} ÷ ${r1} replicas (${h2} handles)`,
      perReplica(r2, h2, "handleUsPerChange"),
      perReplica(r1, h2, "handleUsPerChange"),
      "a handle does more than linear work per changed set: profile ReplicaSet.onUpdate and the ring rebuild",
    ),
    linear(
      `handle CPU per re-publish per replica, ${r2} ÷ ${r1} replicas (${h2} handles)`,
      perReplica(r2, h2, "handleUsPerBroadcast"),
      perReplica(r1, h2, "handleUsPerBroadcast"),
      "a handle does more than linear work to check a re-published set: it should stop at the version",
    ),
    linear(
      `handles CPU per second per handle, ${h2} ÷ ${h1} handles (${r2} replicas)`,
      perHandle(r2, h2, "steadyHandlesMsPerS"),
      perHandle(r2, h1, "steadyHandlesMsPerS"),
      "handles interfere with each other: each should only decode its own copy",
    ),
    linear(
      `controller CPU per second per replica, ${r2} ÷ ${r1} replicas (${h2} handles)`,
      perReplica(r2, h2, "steadyControllerMsPerS"),
      perReplica(r1, h2, "steadyControllerMsPerS"),
      "the controller's steady work grows faster than its replicas",
    ),
  ];
}

/** What the suite measured with, for the summary and the stored config. */
export interface MembershipRunConfig {
  replicaSteps: readonly number[];
  handleCounts: readonly number[];
  windowMs: number;
  churn: number;
  churnGapMs: number;
}

const curve = (y: string, title: string, yTitle: string, rows: Row[]) =>
  lines({
    title,
    values: rows,
    x: "replicas",
    xTitle: "replicas (log)",
    y,
    yTitle,
    color: "handles",
    colorType: "ordinal",
    logX: true,
  });

/** The suite's result from its rows. */
export function membershipResult(rows: Row[], c: MembershipRunConfig): SuiteResult {
  return {
    summary:
      "A real controller (local cluster, no real agent) and a fake agent in the bench process that answers start " +
      "commands and heartbeats every replica it was given, so a ConsistentHash deployment of any size is RUNNING " +
      `without processes. One child process holds ${c.handleCounts.join(", ")} handles, each on a client and NATS ` +
      "connection of its own, following the controller's membership broadcasts through the real replica set and " +
      `ring. The deployment scales up ${c.replicaSteps.join(" → ")}; per step: the broadcasts (coalesced) and ` +
      "bytes delivered to all handles until every handle holds the new set, with the CPU of the controller, the " +
      `handles' process and nats-server. Then a ${c.windowMs / 1000} s steady window, where only the controller's ` +
      "re-publish every 2 s reaches the handles: bytes delivered and CPU per second. Then, to time one handle's " +
      `share precisely, the bench publishes bursts as the controller would (${c.churn} sets ${c.churnGapMs} ms apart): ` +
      "changed sets (alternately one replica less; each a rebuild of the replica set and ring) and re-publishes " +
      "of the held version (decoded, then dropped). CPU is read with nanosecond resolution from " +
      "`/proc/<pid>/task/*/schedstat`.",
    config: { ...c, republishIntervalMs: 2000 },
    columns: MEMBERSHIP_COLUMNS,
    rows,
    targets: membershipTargets(rows),
    charts: [
      {
        name: "handle-cost",
        title: "Handle CPU per changed set vs replicas",
        spec: curve(
          "handleUsPerChange",
          "handle CPU µs per changed set, per handle",
          "µs per set per handle",
          rows,
        ),
      },
      {
        name: "bytes",
        title: "Membership bytes delivered per second (steady) vs replicas",
        spec: curve(
          "steadyBytesPerS",
          "bytes/s delivered to all handles (steady re-publish)",
          "bytes/s",
          rows,
        ),
      },
    ],
    notes: [
      "Bytes delivered = the broadcast's size × handles: nats-server fans one publish out to every subscriber, " +
        "so the controller publishes (and encodes) each snapshot once whatever the number of handles, and each " +
        "client decodes it once for all its handles of that deployment (they share one dispatcher).",
      "The controller's steady CPU includes the fake agent's heartbeats (one per replica per second), which grow " +
        "with replicas and not with handles.",
      "A handle's cost per set includes a fixed part (waking up, the NATS message) that dominates at small sets: " +
        "per replica it falls as sets grow.",
    ],
  };
}
