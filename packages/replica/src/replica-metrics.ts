import { Counter, Gauge, Histogram } from "prom-client";
import { processRegistry } from "@tsserve/handle";
import type { ReplicaSpec } from "@tsserve/protocol";

/** Processing-latency buckets in seconds: Ray Serve's `DEFAULT_LATENCY_BUCKET_MS`, in base units. */
export const LATENCY_BUCKETS_S = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 1, 2, 5, 10, 60, 120, 300,
];

type Labels = "app" | "deployment" | "replica";

/**
 * A replica's own series, Ray Serve's names translated (`ray_serve_` → `tsserve_`):
 * - `tsserve_replica_processing_latency_seconds` (Ray: `ray_serve_deployment_processing_latency_ms`;
 *   in seconds, Prometheus's base unit, so that `promtool check metrics` passes), by method;
 * - `tsserve_replica_requests_total` / `tsserve_replica_errors_total` (Ray:
 *   `ray_serve_deployment_request_counter` / `ray_serve_deployment_error_counter`);
 * - `tsserve_replica_ongoing_requests` (Ray: `ray_serve_replica_processing_queries`);
 * - `tsserve_replica_sessions`: distinct session ids seen in the last 5 minutes (the dashboard's
 *   sessions per replica on the consistent-hash ring).
 */
export class ReplicaMetrics {
  private readonly latency: Histogram<Labels | "method">;
  private readonly requests: Counter<Labels | "method">;
  private readonly errors: Counter<Labels | "method">;
  private readonly ongoingGauge: Gauge<Labels>;
  private readonly labels: Record<Labels, string>;
  private readonly sessions = new Map<string, number>();

  constructor(spec: ReplicaSpec) {
    const registers = [processRegistry()];
    this.labels = { app: spec.app, deployment: spec.deployment, replica: spec.replicaId };
    const labelNames = ["app", "deployment", "replica", "method"] as const;
    this.latency = new Histogram({
      name: "tsserve_replica_processing_latency_seconds",
      help: "Time a replica spent on a request, from acceptance to its final reply",
      labelNames,
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.requests = new Counter({
      name: "tsserve_replica_requests_total",
      help: "Requests a replica finished",
      labelNames,
      registers,
    });
    this.errors = new Counter({
      name: "tsserve_replica_errors_total",
      help: "Requests a replica finished with an error",
      labelNames,
      registers,
    });
    this.ongoingGauge = new Gauge({
      name: "tsserve_replica_ongoing_requests",
      help: "Requests a replica is running right now",
      labelNames: ["app", "deployment", "replica"],
      registers,
    });
    this.ongoingGauge.set(this.labels, 0);
    const sessions = this.sessions;
    new Gauge({
      name: "tsserve_replica_sessions",
      help: "Distinct session ids a replica served in the last 5 minutes",
      labelNames: ["app", "deployment", "replica"],
      registers,
      collect() {
        const cutoff = Date.now() - SESSION_WINDOW_MS;
        for (const [id, at] of sessions) if (at < cutoff) sessions.delete(id);
        this.set(labelsOf(spec), sessions.size);
      },
    });
  }

  /** The ongoing count changed (a request was accepted). */
  ongoing(n: number): void {
    this.ongoingGauge.set(this.labels, n);
  }

  /** A request ended. */
  finished(method: string, failed: boolean, ms: number, ongoing: number, sessionId?: string | null): void {
    const l = { ...this.labels, method };
    this.latency.observe(l, ms / 1000);
    this.requests.inc(l);
    if (failed) this.errors.inc(l);
    this.ongoingGauge.set(this.labels, ongoing);
    if (sessionId && this.sessions.size < MAX_SESSIONS) this.sessions.set(sessionId, Date.now());
    else if (sessionId && this.sessions.has(sessionId)) this.sessions.set(sessionId, Date.now());
  }
}

const SESSION_WINDOW_MS = 5 * 60_000;
/** Bounds the memory of session counting under a flood of one-off session ids. */
const MAX_SESSIONS = 100_000;

function labelsOf(spec: ReplicaSpec): Record<Labels, string> {
  return { app: spec.app, deployment: spec.deployment, replica: spec.replicaId };
}
