import type { NatsConnection } from "nats";
import {
  encode,
  heartbeatSubject,
  type ReplicaHeartbeat,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

/** The states a replica reports on its heartbeat subject. */
export type HeartbeatState = ReplicaHeartbeat["state"];

/** ±10 % so that replicas started together do not heartbeat in lockstep. */
const JITTER = 0.1;

/**
 * Publishes `ReplicaHeartbeat`s (msgpack) on `hb.<app>.<deployment>.<replica>`: at once on every
 * state change, and every `heartbeatPeriodMs` ±10 % while started. Timers are unref'd: heartbeats
 * never keep a process alive on their own.
 */
export class Heartbeats {
  private readonly subject: string;
  private readonly body: ReplicaHeartbeat;
  private readonly periodMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** Where the `ongoing` count comes from; set once the request server exists. */
  ongoing: () => number = () => 0;
  /** Where the rejected-message count comes from; set once the request server exists. */
  rejectedMessages: () => number = () => 0;
  /** Stateful deployments: sessions owned and hand-offs in progress (set by the runtime). */
  sessions: (() => { sessions: number; handoffs: number }) | undefined;
  /** Multiplexed deployments: the loaded model ids, reported on every beat. */
  models: (() => string[]) | undefined = undefined;

  constructor(
    private readonly nc: NatsConnection,
    spec: ReplicaSpec,
    private readonly onError: (e: unknown) => void,
  ) {
    this.subject = heartbeatSubject(spec.prefix, spec.app, spec.deployment, spec.replicaId);
    this.body = {
      replicaId: spec.replicaId,
      app: spec.app,
      deployment: spec.deployment,
      nodeId: spec.nodeId,
      state: "STARTING",
      ongoing: 0,
      pid: process.pid,
      startedAt: Date.now(),
      codeVersion: spec.codeVersion,
      generation: spec.generation ?? 0,
    };
    this.periodMs = spec.config.heartbeatPeriodMs;
  }

  /** The state last reported. */
  get state(): HeartbeatState {
    return this.body.state;
  }

  /** Reports `state` now (with `error` for FAILED) and keeps reporting it on the periodic beat. */
  report(state: HeartbeatState, error?: string): void {
    this.body.state = state;
    if (error !== undefined) this.body.error = error;
    this.publish();
  }

  /** Reports a failed `checkHealth()`: kept on every later beat, the controller replaces us. */
  reportHealthError(why: string): void {
    this.body.healthError = why;
    this.publish();
  }

  /** Reports now, off the period (the loaded models changed). */
  beat(): void {
    this.publish();
  }

  /** Starts the periodic beat. */
  start(): void {
    if (this.timer !== undefined) return;
    this.schedule();
  }

  /** Stops the periodic beat. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const delay = this.periodMs * (1 - JITTER + Math.random() * 2 * JITTER);
    this.timer = setTimeout(this.tick, delay);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    this.publish();
    this.schedule();
  };

  private publish(): void {
    this.body.ongoing = this.ongoing();
    this.body.rejectedMessages = this.rejectedMessages();
    if (this.sessions !== undefined) {
      const s = this.sessions();
      this.body.sessions = s.sessions;
      this.body.handoffs = s.handoffs;
    }
    if (this.models !== undefined) this.body.models = this.models();
    try {
      this.nc.publish(this.subject, encode(this.body));
    } catch (e) {
      // A closed connection during shutdown is expected; anything else is worth a line.
      this.onError(e);
    }
  }
}
