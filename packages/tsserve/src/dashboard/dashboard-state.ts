import type { NatsConnection } from "nats";
import type { Registry } from "prom-client";
import { ControllerClient } from "@tsserve/controller";
import { logsSubject, decode, type LogLine } from "@tsserve/protocol/internal";
import { type StatusReport } from "@tsserve/protocol";
import { statsBetween, sampleOf, type DeploymentStats, type Sample } from "./deployment-stats.js";
import { collectMetrics } from "./metrics-collector.js";
import { ringShares, type RingReplica } from "./ring-view.js";

/** One recent error: a failed request logged by a replica, or a deployment's last failure. */
export interface RecentError {
  ts: number;
  app: string;
  deployment: string;
  replicaId: string;
  text: string;
}

/** The consistent-hash ring of one ConsistentHash deployment. */
export interface RingView {
  app: string;
  deployment: string;
  numVirtualNodes: number;
  replicas: RingReplica[];
}

/** What the dashboard shows, as `GET /api/snapshot` and every SSE `snapshot` event carry it. */
export interface DashboardSnapshot {
  /** Epoch ms of this snapshot. */
  at: number;
  /** The controller's status (`tsserve status --json`), or null while no controller answers. */
  status: StatusReport | null;
  /** Request rate and latency per deployment over the last sampling period. */
  deployments: DeploymentStats[];
  /** Rings of ConsistentHash deployments, with sessions per replica. */
  rings: RingView[];
  /** Newest last; at most {@link MAX_ERRORS}. */
  errors: RecentError[];
}

export const MAX_ERRORS = 50;
/** Sampling pauses this long after the last snapshot read when no SSE stream is open. */
const IDLE_AFTER_MS = 10_000;
const ERROR_LINE = /\b(ERROR|FATAL)\b|"level":(50|60)/;

/**
 * Samples the cluster every `periodMs` (controller status, every component's metrics) and keeps
 * the recent errors the replicas log; listeners get each new snapshot (the SSE stream).
 */
export class DashboardState {
  private last: DashboardSnapshot = { at: 0, status: null, deployments: [], rings: [], errors: [] };
  private prev: Sample | undefined;
  private readonly errors: RecentError[] = [];
  private readonly listeners = new Set<(s: DashboardSnapshot) => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly ctl: ControllerClient;
  private closed = false;
  /** Epoch ms of the last `/api/snapshot` read: sampling runs only while someone looks. */
  private lastRead = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly local: readonly Registry[],
    private readonly periodMs = 1000,
  ) {
    this.ctl = new ControllerClient(nc, { prefix, timeoutMs: 2000 });
    nc.subscribe(logsSubject(prefix), {
      callback: (err, msg) => {
        if (err) return;
        const lines = decode(msg.data);
        if (Array.isArray(lines)) for (const l of lines as LogLine[]) this.onLine(l);
      },
    });
  }

  /** Starts sampling. */
  start(): void {
    const tick = async (): Promise<void> => {
      // Nobody watching (no SSE stream, no recent snapshot read): collecting every component's
      // metrics each second would be CPU spent for nothing.
      const watched = this.listeners.size > 0 || Date.now() - this.lastRead < IDLE_AFTER_MS;
      if (watched) await this.sample().catch(() => undefined);
      if (!this.closed) {
        this.timer = setTimeout(() => void tick(), this.periodMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  /** The latest snapshot (a fresh one when sampling was idle). */
  async snapshot(): Promise<DashboardSnapshot> {
    const idle = this.listeners.size === 0 && Date.now() - this.lastRead >= IDLE_AFTER_MS;
    this.lastRead = Date.now();
    if (idle || this.last.at === 0) await this.sample().catch(() => undefined);
    return this.last;
  }

  /** Calls `fn` with every new snapshot until the returned function is called. */
  subscribe(fn: (s: DashboardSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stops sampling. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private onLine(l: LogLine): void {
    if (!ERROR_LINE.test(l.line)) return;
    this.errors.push({
      ts: l.ts,
      app: l.app,
      deployment: l.deployment,
      replicaId: l.replicaId,
      text: l.line,
    });
    if (this.errors.length > MAX_ERRORS) this.errors.splice(0, this.errors.length - MAX_ERRORS);
  }

  private async sample(): Promise<void> {
    const [status, collected] = await Promise.all([
      this.ctl.status().catch(() => null),
      collectMetrics(this.nc, this.prefix, this.local, Math.min(800, this.periodMs)),
    ]);
    const cur = sampleOf(collected.families);
    const deployments = statsBetween(this.prev, cur);
    this.prev = cur;
    const rings: RingView[] = [];
    for (const app of status?.applications ?? []) {
      for (const d of app.deployments) {
        const router = d.router;
        if (router?.class !== "ConsistentHash") continue;
        const n = Number(router.kwargs["numVirtualNodes"] ?? 100);
        const ids = d.replicas.filter((r) => r.state === "RUNNING").map((r) => r.replicaId);
        rings.push({
          app: app.name,
          deployment: d.name,
          numVirtualNodes: n,
          replicas: ringShares(ids, n, cur.sessions),
        });
      }
    }
    this.last = { at: Date.now(), status, deployments, rings, errors: [...this.errors] };
    for (const fn of this.listeners) fn(this.last);
  }
}
