import { Counter, Gauge, Histogram } from "prom-client";
import { processRegistry, type ReplicaSpec } from "@tsserve/protocol/internal";

/** Hand-off durations in seconds: a pause per moved session, goal p99 ≤ 200 ms. */
const HANDOFF_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** How a session came to this replica (a state load), or why a write was refused. */
export type LoadKind = "new" | "handoff" | "parked" | "durable" | "lost";
export type RefusedKind = "too-large" | "unencodable" | "ownership-lost" | "store-error";

/**
 * Session-state series of one replica (docs/observability.md):
 * - `tsserve_session_handoffs_total{direction="in"|"out", result}` and
 *   `tsserve_session_handoff_seconds{direction}`: sessions taken over from / released to another
 *   replica (or parked at drain), and how long each took;
 * - `tsserve_session_state_loads_total{kind}`: how sessions arrived here;
 * - `tsserve_session_state_bytes`: encoded bytes of the state this replica holds;
 * - `tsserve_session_refused_writes_total{reason}`: `set()` or durable writes refused;
 * - `tsserve_session_owned`: sessions owned right now; `tsserve_session_handoffs_in_progress`.
 */
export class SessionMetrics {
  private readonly handoffs: Counter<"app" | "deployment" | "replica" | "direction" | "result">;
  private readonly handoffSeconds: Histogram<"app" | "deployment" | "replica" | "direction">;
  private readonly loads: Counter<"app" | "deployment" | "replica" | "kind">;
  private readonly refused: Counter<"app" | "deployment" | "replica" | "reason">;
  private readonly labels: { app: string; deployment: string; replica: string };

  constructor(spec: ReplicaSpec, read: () => { sessions: number; handoffs: number; bytes: number }) {
    const registers = [processRegistry()];
    const labels = (this.labels = { app: spec.app, deployment: spec.deployment, replica: spec.replicaId });
    const base = ["app", "deployment", "replica"] as const;
    this.handoffs = new Counter({
      name: "tsserve_session_handoffs_total",
      help: "Session hand-offs: in = taken over by this replica, out = released or parked by it",
      labelNames: [...base, "direction", "result"],
      registers,
    });
    this.handoffSeconds = new Histogram({
      name: "tsserve_session_handoff_seconds",
      help: "Time one session hand-off took (in: first call waiting to state imported; out: request to parked)",
      labelNames: [...base, "direction"],
      buckets: HANDOFF_BUCKETS_S,
      registers,
    });
    this.loads = new Counter({
      name: "tsserve_session_state_loads_total",
      help: "Sessions this replica came to own, by where their state came from",
      labelNames: [...base, "kind"],
      registers,
    });
    this.refused = new Counter({
      name: "tsserve_session_refused_writes_total",
      help: "Session state writes refused (too large, unencodable, ownership lost, store error)",
      labelNames: [...base, "reason"],
      registers,
    });
    const gauge = (name: string, help: string, pick: (v: ReturnType<typeof read>) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: base,
        registers,
        collect() {
          this.set(labels, pick(read()));
        },
      });
    };
    gauge("tsserve_session_owned", "Sessions this replica owns right now", (v) => v.sessions);
    gauge(
      "tsserve_session_handoffs_in_progress",
      "Session hand-offs to or from this replica now",
      (v) => v.handoffs,
    );
    gauge(
      "tsserve_session_state_bytes",
      "Encoded bytes of the session state this replica holds",
      (v) => v.bytes,
    );
  }

  handoff(direction: "in" | "out", result: "ok" | "failed", ms: number): void {
    this.handoffs.inc({ ...this.labels, direction, result });
    if (result === "ok") this.handoffSeconds.observe({ ...this.labels, direction }, ms / 1000);
  }

  load(kind: LoadKind): void {
    this.loads.inc({ ...this.labels, kind });
  }

  refusedWrite(reason: RefusedKind): void {
    this.refused.inc({ ...this.labels, reason });
  }
}
