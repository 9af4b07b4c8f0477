import type { MetricFamily } from "./metrics-collector.js";

/** Request rate and latency of one deployment over the last sampling window. */
export interface DeploymentStats {
  app: string;
  deployment: string;
  /** Requests finished per second. */
  requestRate: number;
  /** Errors per second. */
  errorRate: number;
  /** Latency quantiles (ms) of the requests finished in the window; null without requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  /** Totals since the replicas started (live replicas only). */
  requests: number;
  errors: number;
}

/** Cumulative counts of one deployment at one instant. */
interface Totals {
  requests: number;
  errors: number;
  /** `le` → cumulative count. */
  buckets: Map<number, number>;
}

/** Cumulative per-deployment counts from one collection. */
export type Sample = { at: number; totals: Map<string, Totals>; sessions: Map<string, number> };

const key = (app: unknown, dep: unknown): string => `${String(app)}/${String(dep)}`;

/** Reduces a collection to per-deployment totals and per-replica session counts. */
export function sampleOf(families: readonly MetricFamily[][], at = Date.now()): Sample {
  const totals = new Map<string, Totals>();
  const sessions = new Map<string, number>();
  const of = (k: string): Totals => {
    let t = totals.get(k);
    if (!t) totals.set(k, (t = { requests: 0, errors: 0, buckets: new Map() }));
    return t;
  };
  for (const list of families) {
    for (const f of list) {
      for (const v of f.values) {
        const k = key(v.labels["app"], v.labels["deployment"]);
        if (f.name === "tsserve_replica_requests_total") of(k).requests += v.value;
        else if (f.name === "tsserve_replica_errors_total") of(k).errors += v.value;
        else if (f.name === "tsserve_replica_sessions") sessions.set(String(v.labels["replica"]), v.value);
        else if (
          f.name === "tsserve_replica_processing_latency_seconds" &&
          v.metricName?.endsWith("_bucket")
        ) {
          const le = v.labels["le"] === "+Inf" ? Infinity : Number(v.labels["le"]);
          const b = of(k).buckets;
          b.set(le, (b.get(le) ?? 0) + v.value);
        }
      }
    }
  }
  return { at, totals, sessions };
}

/** The `q` quantile of a cumulative histogram (linear inside the bucket, as PromQL does). */
export function quantile(q: number, cumulative: Map<number, number>): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? (bounds.length ? cumulative.get(bounds.at(-1)!)! : 0);
  if (!total) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const b of bounds) {
    const c = cumulative.get(b)!;
    if (c >= rank) {
      if (b === Infinity) return prevBound;
      return prevBound + ((b - prevBound) * (rank - prevCount)) / Math.max(1e-9, c - prevCount);
    }
    prevBound = b;
    prevCount = c;
  }
  return prevBound;
}

const toMs = (s: number | null): number | null => (s === null ? null : s * 1000);

/** Rates and latency between two samples (counts that went down — replicas replaced — count as 0). */
export function statsBetween(prev: Sample | undefined, cur: Sample): DeploymentStats[] {
  const out: DeploymentStats[] = [];
  const dt = prev ? Math.max(0.001, (cur.at - prev.at) / 1000) : 1;
  for (const [k, t] of cur.totals) {
    const p = prev?.totals.get(k);
    const [app, deployment] = k.split("/") as [string, string];
    const window = new Map<number, number>();
    for (const [le, c] of t.buckets) window.set(le, Math.max(0, c - (p?.buckets.get(le) ?? 0)));
    out.push({
      app,
      deployment,
      requestRate: p ? Math.max(0, t.requests - p.requests) / dt : 0,
      errorRate: p ? Math.max(0, t.errors - p.errors) / dt : 0,
      p50Ms: p ? toMs(quantile(0.5, window)) : null,
      p95Ms: p ? toMs(quantile(0.95, window)) : null,
      requests: t.requests,
      errors: t.errors,
    });
  }
  return out.sort((a, b) => (a.app + a.deployment < b.app + b.deployment ? -1 : 1));
}
