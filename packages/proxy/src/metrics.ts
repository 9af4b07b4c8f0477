import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { HandleMetricsSink } from "@tsserve/handle";
import type { ApplicationStatusReport, ReplicaState } from "@tsserve/protocol";

/** Latency buckets (seconds) of HTTP requests: sub-millisecond no-ops up to the default 60 s timeout. */
export const HTTP_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
/** Buckets (seconds) of router rebuilds: a 100-point ring over a few replicas takes well under 1 ms. */
export const REBUILD_DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5];

const REPLICA_STATES: readonly ReplicaState[] = ["STARTING", "RUNNING", "DRAINING", "STOPPED"];

/**
 * The proxy's Prometheus series, in a Registry of its own (so two proxies in one process, or a host
 * application with its own default registry, never collide). `sink` feeds the handle-side series
 * and is what the proxy passes to its handle client.
 */
export class ProxyMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  /** Routing events of the handle client → Prometheus. Pass to `connect({ metrics })`. */
  readonly sink: HandleMetricsSink;

  private readonly httpRequests: Counter<"route" | "status">;
  private readonly httpDuration: Histogram<"route">;
  private readonly grpcRequests: Counter<"method" | "code">;
  private readonly grpcDuration: Histogram<"method">;
  private readonly handleRequests: Counter<"app" | "deployment" | "outcome">;
  private readonly rejections: Counter<"app" | "deployment">;
  private readonly queueLength: Gauge<"app" | "deployment" | "replica">;
  private readonly replicas: Gauge<"app" | "deployment" | "state">;
  private readonly fallbackRank: Counter<"app" | "deployment" | "rank">;
  private readonly rebuildDuration: Histogram<"app" | "deployment">;
  private readonly rebuilds: Counter<"app" | "deployment">;
  private readonly queued: Gauge<"app" | "deployment">;
  // Queue-length series by replica, so series of replicas that left can be dropped on the next poll
  // instead of exporting their last value forever.
  private readonly queueSeries = new Map<
    string,
    {
      labels: Record<"app" | "deployment" | "replica", string>;
      child: { set(v: number): void };
      last: number;
    }
  >();
  private readonly httpSeries = new Children((l) => ({
    count: this.httpRequests.labels(l),
    duration: this.httpDuration.labels({ route: l["route"] as string }),
  }));

  constructor() {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: "tsserve_http_requests_total",
      help: "HTTP requests answered by the proxy, by route prefix and status code",
      labelNames: ["route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "tsserve_http_request_duration_seconds",
      help: "Time from receiving an HTTP request to finishing its answer, by route prefix",
      labelNames: ["route"],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.grpcRequests = new Counter({
      name: "tsserve_grpc_requests_total",
      help: "gRPC calls answered by the gRPC ingress, by RPC path and status code name",
      labelNames: ["method", "code"],
      registers,
    });
    this.grpcDuration = new Histogram({
      name: "tsserve_grpc_request_duration_seconds",
      help: "Time from receiving a gRPC call to its status, by RPC path",
      labelNames: ["method"],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.handleRequests = new Counter({
      name: "tsserve_handle_requests_total",
      help: "Calls completed by the proxy's handles, by outcome (ok or an error code)",
      labelNames: ["app", "deployment", "outcome"],
      registers,
    });
    this.rejections = new Counter({
      name: "tsserve_replica_rejections_total",
      help: "Requests a replica rejected because it was at maxOngoingRequests",
      labelNames: ["app", "deployment"],
      registers,
    });
    this.queueLength = new Gauge({
      name: "tsserve_replica_queue_length",
      help: "Last queue length (ongoing requests) a replica reported to the proxy",
      labelNames: ["app", "deployment", "replica"],
      registers,
    });
    this.replicas = new Gauge({
      name: "tsserve_replicas",
      help: "Replicas per state, from the controller's status",
      labelNames: ["app", "deployment", "state"],
      registers,
    });
    this.fallbackRank = new Counter({
      name: "tsserve_router_fallback_rank_total",
      help: "Requests routed, by the rank of the candidate group that took them (0 = first choice)",
      labelNames: ["app", "deployment", "rank"],
      registers,
    });
    this.rebuildDuration = new Histogram({
      name: "tsserve_router_rebuild_duration_seconds",
      help: "Time a router took to rebuild derived state (e.g. the hash ring) after a membership change",
      labelNames: ["app", "deployment"],
      buckets: REBUILD_DURATION_BUCKETS,
      registers,
    });
    this.rebuilds = new Counter({
      name: "tsserve_router_rebuilds_total",
      help: "Router rebuilds after membership changes",
      labelNames: ["app", "deployment"],
      registers,
    });
    // The queue length changes twice per queued call: keep the latest per deployment and hand it
    // to the gauge at scrape time, not through prom-client's label hashing on every change.
    const queuedNow = new Map<string, { app: string; deployment: string; n: number }>();
    this.queued = new Gauge({
      name: "tsserve_handle_queued_requests",
      help: "Requests a handle holds waiting for a replica with a free slot",
      labelNames: ["app", "deployment"],
      registers,
      collect() {
        for (const q of queuedNow.values()) this.set({ app: q.app, deployment: q.deployment }, q.n);
      },
    });
    // Arrow functions: the handle calls these detached from the object, on its hot path. The
    // per-call series use label-bound children cached by key: prom-client otherwise validates and
    // hashes a label object on every call (about a third of its cost per update).
    const routed = new Children((l) => this.fallbackRank.labels(l));
    const completed = new Children((l) => this.handleRequests.labels(l));
    this.sink = {
      requestRouted: (app, deployment, _replicaId, rank) => {
        routed
          .get(`${app}\u0000${deployment}\u0000${rank}`, () => ({ app, deployment, rank: String(rank) }))
          .inc();
      },
      requestRejected: (app, deployment) => {
        this.rejections.inc({ app, deployment });
      },
      requestCompleted: (app, deployment, _durationMs, outcome) => {
        completed
          .get(`${app}\u0000${deployment}\u0000${outcome}`, () => ({ app, deployment, outcome }))
          .inc();
      },
      queueLength: (app, deployment, replica, queueLen) => {
        const key = `${app}\u0000${deployment}\u0000${replica}`;
        let q = this.queueSeries.get(key);
        if (q === undefined) {
          const labels = { app, deployment, replica };
          q = { labels, child: this.queueLength.labels(labels), last: -1 };
          this.queueSeries.set(key, q);
        }
        // Every reply reports a queue length; most repeat the last one.
        if (q.last !== queueLen) {
          q.child.set(queueLen);
          q.last = queueLen;
        }
      },
      queuedChanged: (app, deployment, queued) => {
        const key = `${app}\u0000${deployment}`;
        const q = queuedNow.get(key);
        if (q !== undefined) q.n = queued;
        else queuedNow.set(key, { app, deployment, n: queued });
      },
      routerRebuilt: (app, deployment, durationMs) => {
        this.rebuilds.inc({ app, deployment });
        this.rebuildDuration.observe({ app, deployment }, durationMs / 1000);
      },
    };
  }

  /** Records one answered HTTP request. `route` is the matched prefix or a fixed name, never the raw path. */
  observeHttp(route: string, status: number, durationSeconds: number): void {
    const s = this.httpSeries.get(`${route}\u0000${status}`, () => ({ route, status: String(status) }));
    s.count.inc();
    s.duration.observe(durationSeconds);
  }

  /** Records one finished gRPC call. `method` is a configured RPC path (a bounded set). */
  observeGrpc(method: string, code: string, durationSeconds: number): void {
    this.grpcRequests.inc({ method, code });
    this.grpcDuration.observe({ method }, durationSeconds);
  }

  /**
   * Replaces the replica-count series with the counts of a fresh status report, and drops
   * queue-length series of replicas the report no longer lists.
   */
  updateFromStatus(apps: readonly ApplicationStatusReport[]): void {
    this.replicas.reset();
    const live = new Set<string>();
    for (const app of apps) {
      for (const d of app.deployments) {
        const counts = new Map<ReplicaState, number>(REPLICA_STATES.map((s) => [s, 0]));
        for (const r of d.replicas) {
          counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
          live.add(`${app.name}\u0000${d.name}\u0000${r.replicaId}`);
        }
        for (const [state, n] of counts) this.replicas.set({ app: app.name, deployment: d.name, state }, n);
      }
    }
    for (const [key, { labels }] of this.queueSeries) {
      if (live.has(key)) continue;
      this.queueLength.remove(labels);
      this.queueSeries.delete(key);
    }
  }

  /** Content type of {@link render}'s text (Prometheus exposition format). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Label-bound metric children by key, made on first use (the label sets are bounded: routes, apps). */
class Children<C> {
  private readonly byKey = new Map<string, C>();
  constructor(private readonly make: (labels: Record<string, string>) => C) {}

  get(key: string, labels: () => Record<string, string>): C {
    let c = this.byKey.get(key);
    if (c === undefined) {
      c = this.make(labels());
      this.byKey.set(key, c);
    }
    return c;
  }
}
