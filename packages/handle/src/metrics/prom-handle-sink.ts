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
  // Routed counts per deployment, for the owner share (cheaper than reading the counter back).
  private readonly routed = new Map<string, { owner: number; all: number }>();

  constructor(registry: Registry = processRegistry()) {
    const registers = [registry];
    const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
    this.requests =
      existing("tsserve_handle_requests_total") ??
      new Counter({
        name: "tsserve_handle_requests_total",
        help: "Calls completed by the proxy's handles, by outcome (ok or an error code)",
        labelNames: ["app", "deployment", "outcome"],
        registers,
      });
    this.queued =
      existing("tsserve_handle_queued_requests") ??
      new Gauge({
        name: "tsserve_handle_queued_requests",
        help: "Requests a handle holds waiting for a replica with a free slot",
        labelNames: ["app", "deployment"],
        registers,
      });
    this.rejections =
      existing("tsserve_replica_rejections_total") ??
      new Counter({
        name: "tsserve_replica_rejections_total",
        help: "Requests a replica rejected because it was at maxOngoingRequests",
        labelNames: ["app", "deployment"],
        registers,
      });
    this.ranks =
      existing("tsserve_router_fallback_rank_total") ??
      new Counter({
        name: "tsserve_router_fallback_rank_total",
        help: "Requests routed, by the rank of the candidate group that took them (0 = first choice)",
        labelNames: ["app", "deployment", "rank"],
        registers,
      });
    this.ownerShare =
      existing("tsserve_handle_owner_share") ??
      new Gauge({
        name: "tsserve_handle_owner_share",
        help: "Share of routed requests taken by their first-choice replica (ConsistentHash: the session's owner)",
        labelNames: ["app", "deployment"],
        registers,
      });
  }

  // Arrow properties: the handle calls these detached from the object, on its hot path.
  readonly requestRouted = (app: string, deployment: string, _replicaId: string, rank: number): void => {
    this.ranks.inc({ app, deployment, rank: String(rank) });
    const key = `${app}/${deployment}`;
    let c = this.routed.get(key);
    if (c === undefined) this.routed.set(key, (c = { owner: 0, all: 0 }));
    c.all++;
    if (rank === 0) c.owner++;
    this.ownerShare.set({ app, deployment }, c.owner / c.all);
  };

  readonly requestRejected = (app: string, deployment: string): void => {
    this.rejections.inc({ app, deployment });
  };

  readonly requestCompleted = (app: string, deployment: string, _ms: number, outcome: string): void => {
    this.requests.inc({ app, deployment, outcome });
  };

  /** Called by the routing loop when its queue of waiting requests changes. */
  readonly queuedChanged = (app: string, deployment: string, queued: number): void => {
    this.queued.set({ app, deployment }, queued);
  };
}

/** The process-wide handle sink (one per registry), for `connect({ metrics: promHandleMetricsSink() })`. */
export function promHandleMetricsSink(): PromHandleMetricsSink {
  const g = globalThis as typeof globalThis & { [SINK]?: PromHandleMetricsSink };
  return (g[SINK] ??= new PromHandleMetricsSink());
}
const SINK = Symbol.for("tsserve.metrics.handleSink");
