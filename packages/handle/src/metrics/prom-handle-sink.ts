import { Counter, Gauge, type Registry } from "prom-client";
import type { HandleMetricsSink } from "../metrics-sink.js";
import { processRegistry } from "@tsserve/protocol/internal";

type DepLabels = "app" | "deployment";

/**
 * Handle-side Prometheus series (Ray Serve's names translated; the proxy uses the same names for
 * its own handles, so they merge in one scrape):
 * - `tsserve_handle_requests_total{outcome}`: calls completed (Ray: `ray_serve_handle_request_counter`);
 * - `tsserve_handle_queued_requests`: requests waiting for a replica (Ray: `ray_serve_deployment_queued_queries`);
 * - `tsserve_replica_rejections_total`: a replica answered "full";
 * - `tsserve_router_fallback_rank_total{rank}`: requests by the rank that took them; for
 *   ConsistentHash rank 0 is the session's owner and higher ranks are spills;
 * - `tsserve_handle_owner_share`: share of routed requests taken by rank 0 (sticky calls on their owner).
 */
export class PromHandleMetricsSink implements HandleMetricsSink {
  private readonly requests: Counter<DepLabels | "outcome">;
  private readonly queued: Gauge<DepLabels>;
  private readonly rejections: Counter<DepLabels>;
  private readonly ranks: Counter<DepLabels | "rank">;
  private readonly ownerShare: Gauge<DepLabels>;
  /** Counts since the last scrape, per app then deployment (the handle passes the same strings). */
  private readonly pending = new Map<string, Map<string, DeploymentCounts>>();
  /** False when another component made these series: then every event goes to them at once. */
  private readonly deferred: boolean;

  constructor(registry: Registry = processRegistry()) {
    const registers = [registry];
    const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
    let sinks = sinksOf.get(registry);
    // prom-client hashes the label values on every inc() and set(), labelled children included;
    // so the hot path counts in plain numbers and a scrape (collect) hands them over, once per series.
    const collect = (): void => {
      for (const sink of sinks ?? []) sink.flush();
    };
    const made = <T extends object>(m: T): T => {
      ours.add(m);
      return m;
    };
    this.requests =
      existing("tsserve_handle_requests_total") ??
      made(
        new Counter({
          name: "tsserve_handle_requests_total",
          help: "Calls completed by the proxy's handles, by outcome (ok or an error code)",
          labelNames: ["app", "deployment", "outcome"],
          registers,
          collect,
        }),
      );
    this.queued =
      existing("tsserve_handle_queued_requests") ??
      made(
        new Gauge({
          name: "tsserve_handle_queued_requests",
          help: "Requests a handle holds waiting for a replica with a free slot",
          labelNames: ["app", "deployment"],
          registers,
          collect,
        }),
      );
    this.rejections =
      existing("tsserve_replica_rejections_total") ??
      made(
        new Counter({
          name: "tsserve_replica_rejections_total",
          help: "Requests a replica rejected because it was at maxOngoingRequests",
          labelNames: ["app", "deployment"],
          registers,
          collect,
        }),
      );
    this.ranks =
      existing("tsserve_router_fallback_rank_total") ??
      made(
        new Counter({
          name: "tsserve_router_fallback_rank_total",
          help: "Requests routed, by the rank of the candidate group that took them (0 = first choice)",
          labelNames: ["app", "deployment", "rank"],
          registers,
          collect,
        }),
      );
    this.ownerShare =
      existing("tsserve_handle_owner_share") ??
      made(
        new Gauge({
          name: "tsserve_handle_owner_share",
          help: "Share of routed requests taken by their first-choice replica (ConsistentHash: the session's owner)",
          labelNames: ["app", "deployment"],
          registers,
          collect,
        }),
      );
    const metrics = [this.requests, this.queued, this.rejections, this.ranks, this.ownerShare];
    this.deferred = metrics.every((m) => ours.has(m));
    if (sinks === undefined) sinksOf.set(registry, (sinks = new Set()));
    sinks.add(this);
  }

  // Arrow properties: the handle calls these detached from the object, on its hot path.
  readonly requestRouted = (app: string, deployment: string, _replicaId: string, rank: number): void => {
    const c = this.countsOf(app, deployment);
    c.all++;
    if (rank === 0) c.owner++;
    c.ranks[rank] = (c.ranks[rank] ?? 0) + 1;
    if (!this.deferred) this.flush();
  };

  readonly requestRejected = (app: string, deployment: string): void => {
    this.countsOf(app, deployment).rejected++;
    if (!this.deferred) this.flush();
  };

  readonly requestCompleted = (app: string, deployment: string, _ms: number, outcome: string): void => {
    const outcomes = this.countsOf(app, deployment).outcomes;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (!this.deferred) this.flush();
  };

  /** Called by the routing loop when its queue of waiting requests changes. */
  readonly queuedChanged = (app: string, deployment: string, queued: number): void => {
    this.countsOf(app, deployment).queued = queued;
    if (!this.deferred) this.flush();
  };

  /** Hands the counts since the last flush to prom-client (a scrape does this first). */
  flush(): void {
    for (const byDeployment of this.pending.values()) {
      for (const c of byDeployment.values()) {
        const labels = c.labels;
        for (let rank = 0; rank < c.ranks.length; rank++) {
          const n = c.ranks[rank];
          if (n) this.ranks.inc({ ...labels, rank: String(rank) }, n);
        }
        c.ranks.length = 0;
        for (const [outcome, n] of c.outcomes) this.requests.inc({ ...labels, outcome }, n);
        c.outcomes.clear();
        if (c.rejected > 0) this.rejections.inc(labels, c.rejected);
        c.rejected = 0;
        if (c.all > 0) this.ownerShare.set(labels, c.owner / c.all);
        if (c.queued >= 0) this.queued.set(labels, c.queued);
        c.queued = -1;
      }
    }
  }

  private countsOf(app: string, deployment: string): DeploymentCounts {
    let byDeployment = this.pending.get(app);
    if (byDeployment === undefined) this.pending.set(app, (byDeployment = new Map()));
    let c = byDeployment.get(deployment);
    if (c === undefined) {
      c = {
        labels: { app, deployment },
        owner: 0,
        all: 0,
        ranks: [],
        outcomes: new Map(),
        rejected: 0,
        queued: -1,
      };
      byDeployment.set(deployment, c);
    }
    return c;
  }
}

/** One deployment's counts: owner/all since the start (the share), the rest since the last flush. */
interface DeploymentCounts {
  readonly labels: Record<DepLabels, string>;
  owner: number;
  all: number;
  /** Routed calls by rank since the last flush. */
  readonly ranks: number[];
  /** Completed calls by outcome since the last flush. */
  readonly outcomes: Map<string, number>;
  rejected: number;
  /** The last queue length reported since the last flush; -1 = none. */
  queued: number;
}

/** Every sink of a registry: a scrape of any of their series flushes them all. */
const sinksOf = new WeakMap<Registry, Set<PromHandleMetricsSink>>();
/** Series this class made (with the flushing collect); others get every event at once. */
const ours = new WeakSet<object>();

/** The process-wide handle sink (one per registry), for `connect({ metrics: promHandleMetricsSink() })`. */
export function promHandleMetricsSink(): PromHandleMetricsSink {
  const g = globalThis as typeof globalThis & { [SINK]?: PromHandleMetricsSink };
  return (g[SINK] ??= new PromHandleMetricsSink());
}
const SINK = Symbol.for("tsserve.metrics.handleSink");
