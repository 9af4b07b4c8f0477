import { Counter, Gauge } from "prom-client";
import { processRegistry } from "@tsserve/protocol/internal";
import type { ReplicaSpec } from "@tsserve/protocol/internal";
import { PlainHistogram, type PlainHistogramSeries } from "./plain-histogram.js";

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
  private readonly latency: PlainHistogram;
  private readonly requests: Counter<Labels | "method">;
  private readonly errors: Counter<Labels | "method">;
  private readonly ongoingGauge: Gauge<Labels>;
  private readonly labels: Record<Labels, string>;
  private readonly sessions = new Map<string, number>();
  // Per method: the latency series, and the calls and errors since the last scrape. prom-client
  // hashes the label values on every inc() and observe(), labelled children included, so the
  // counters count in plain numbers and a scrape (their collect) hands the counts over, once per
  // series; the latency histogram counts in plain arrays and builds its samples when scraped.
  private readonly perMethod = new Map<string, MethodCounts>();
  private current = 0;

  constructor(spec: ReplicaSpec) {
    const registers = [processRegistry()];
    this.labels = { app: spec.app, deployment: spec.deployment, replica: spec.replicaId };
    const labelNames = ["app", "deployment", "replica", "method"] as const;
    this.latency = new PlainHistogram({
      name: "tsserve_replica_processing_latency_seconds",
      help: "Time a replica spent on a request, from acceptance to its final reply",
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    const flush = (): void => this.flush();
    this.requests = new Counter({
      name: "tsserve_replica_requests_total",
      help: "Requests a replica finished",
      labelNames,
      registers,
      collect: flush,
    });
    this.errors = new Counter({
      name: "tsserve_replica_errors_total",
      help: "Requests a replica finished with an error",
      labelNames,
      registers,
      collect: flush,
    });
    const now = (): number => this.current;
    const labels = this.labels;
    this.ongoingGauge = new Gauge({
      name: "tsserve_replica_ongoing_requests",
      help: "Requests a replica is running right now",
      labelNames: ["app", "deployment", "replica"],
      registers,
      // Read at scrape time: nothing to do per request.
      collect() {
        this.set(labels, now());
      },
    });
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

  /** Hands the counts since the last scrape to prom-client (each counter's collect does this first). */
  private flush(): void {
    for (const m of this.perMethod.values()) {
      if (m.requests > 0) this.requests.inc(m.labels, m.requests);
      if (m.errors > 0) this.errors.inc(m.labels, m.errors);
      m.requests = 0;
      m.errors = 0;
    }
  }

  /** The ongoing count changed (a request was accepted). */
  ongoing(n: number): void {
    this.current = n;
  }

  /** A request ended. */
  finished(method: string, failed: boolean, ms: number, ongoing: number, sessionId?: string | null): void {
    let m = this.perMethod.get(method);
    if (m === undefined) {
      const labels = { ...this.labels, method };
      m = { labels, latency: this.latency.seriesOf(method, labels), requests: 0, errors: 0 };
      this.perMethod.set(method, m);
    }
    m.latency.observe(ms / 1000);
    m.requests++;
    if (failed) m.errors++;
    this.current = ongoing;
    if (sessionId && this.sessions.size < MAX_SESSIONS) this.sessions.set(sessionId, Date.now());
    else if (sessionId && this.sessions.has(sessionId)) this.sessions.set(sessionId, Date.now());
  }
}

interface MethodCounts {
  readonly labels: Record<Labels | "method", string>;
  readonly latency: PlainHistogramSeries;
  /** Calls finished since the last scrape. */
  requests: number;
  /** Of those, calls that failed. */
  errors: number;
}

const SESSION_WINDOW_MS = 5 * 60_000;
/** Bounds the memory of session counting under a flood of one-off session ids. */
const MAX_SESSIONS = 100_000;

function labelsOf(spec: ReplicaSpec): Record<Labels, string> {
  return { app: spec.app, deployment: spec.deployment, replica: spec.replicaId };
}
