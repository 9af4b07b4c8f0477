import { backoffDelayMs, probeDeadlineMs } from "../backoff.js";
import { NO_RESPONDERS, type DeploymentTransport, type ProbeResult } from "../replica-transport.js";

/** What the prober reports to its dispatcher. */
export interface ProbeEvents {
  /** A replica answered with its queue length. */
  answered(replicaId: string, queueLen: number): void;
  /** Nothing is subscribed on the replica's subject: it is gone. */
  gone(replicaId: string): void;
  /**
   * A probe got no answer before its deadline. `silentSeconds` counts the probes in a row with a
   * deadline of at least a second that went unanswered (short routing probes do not count: a busy
   * event loop may miss 100 ms, not seconds).
   */
  timedOut(replicaId: string, silentSeconds: number): void;
  /** Whether a scheduled re-check of `replicaId` is still worth a probe (someone waits). */
  wanted(replicaId: string): boolean;
}

interface ReplicaProbeState {
  /** Probe in flight. */
  inFlight: Promise<ProbeResult> | null;
  /** Timer of a scheduled re-check. */
  timer: NodeJS.Timeout | null;
  /** Re-checks of a full replica since it was last seen with room: picks the backoff delay. */
  rechecks: number;
  /** Probes in a row without an answer: doubles the deadline (100 ms up to 1 s). */
  timeouts: number;
  /** Probes in a row with a deadline of 1 s or more that went unanswered. */
  longTimeouts: number;
}

/** A probe deadline at least this long that passes unanswered counts toward "unreachable". */
export const LONG_PROBE_MS = 1000;

/**
 * Asks replicas for their queue length, for what a handle cannot learn from its own replies:
 * replicas it has no fresh number for, and full replicas whose slots are held by other handles
 * (their replies never reach this handle, so it re-checks with backoff: 25 ms doubling to 500 ms).
 * At most one probe per replica is in flight; answers go to the dispatcher.
 */
export class ReplicaProber {
  private readonly states = new Map<string, ReplicaProbeState>();
  private closed = false;

  constructor(
    private readonly transport: DeploymentTransport,
    private readonly events: ProbeEvents,
  ) {}

  /** Probes `replicaId` now unless a probe is already in flight; `deadlineMs` overrides the adaptive one. */
  probe(replicaId: string, deadlineMs?: number): Promise<ProbeResult> {
    const s = this.state(replicaId);
    if (s.inFlight !== null) return s.inFlight;
    if (s.timer !== null) {
      clearTimeout(s.timer);
      s.timer = null;
    }
    const deadline = deadlineMs ?? probeDeadlineMs(s.timeouts);
    const p = this.transport.probe(replicaId, deadline).then((r) => this.settle(replicaId, s, r, deadline));
    s.inFlight = p;
    return p;
  }

  /**
   * The answer of the probe in flight for `replicaId`, or of a new one; null when a re-check is
   * already scheduled (its answer will be reported like any other).
   */
  probeOrJoin(replicaId: string): Promise<ProbeResult> | null {
    const s = this.states.get(replicaId);
    if (s !== undefined && s.inFlight === null && s.timer !== null) return null;
    return this.probe(replicaId);
  }

  /**
   * A waiting request needs `replicaId`, which is full with load this handle cannot see end:
   * probe it again after a backoff that grows with every re-check until it is seen with room.
   */
  recheckLater(replicaId: string): void {
    if (this.closed) return;
    const s = this.state(replicaId);
    if (s.inFlight !== null || s.timer !== null) return;
    s.timer = setTimeout(() => {
      s.timer = null;
      if (!this.closed && this.events.wanted(replicaId)) void this.probe(replicaId);
    }, backoffDelayMs(s.rechecks++));
    s.timer.unref();
  }

  /** The replica was seen with room (or answered a request): the next re-check starts short again. */
  resetBackoff(replicaId: string): void {
    const s = this.states.get(replicaId);
    if (s !== undefined) s.rechecks = 0;
  }

  /** True when a probe of `replicaId` is in flight or scheduled. */
  isPending(replicaId: string): boolean {
    const s = this.states.get(replicaId);
    return s !== undefined && (s.inFlight !== null || s.timer !== null);
  }

  /** Forgets replicas no longer in `active` (their timers stop). */
  prune(active: ReadonlySet<string>): void {
    for (const [id, s] of this.states) {
      if (active.has(id) || s.inFlight !== null) continue;
      if (s.timer !== null) clearTimeout(s.timer);
      this.states.delete(id);
    }
  }

  /** Stops every scheduled re-check; probes in flight finish but report nothing. */
  close(): void {
    this.closed = true;
    for (const s of this.states.values()) if (s.timer !== null) clearTimeout(s.timer);
    this.states.clear();
  }

  private state(replicaId: string): ReplicaProbeState {
    let s = this.states.get(replicaId);
    if (s === undefined) {
      s = { inFlight: null, timer: null, rechecks: 0, timeouts: 0, longTimeouts: 0 };
      this.states.set(replicaId, s);
    }
    return s;
  }

  private settle(replicaId: string, s: ReplicaProbeState, r: ProbeResult, deadlineMs: number): ProbeResult {
    s.inFlight = null;
    if (this.closed) return r;
    if (r === NO_RESPONDERS) {
      s.timeouts = s.longTimeouts = 0;
      this.events.gone(replicaId);
    } else if (r === null) {
      s.timeouts++;
      if (deadlineMs >= LONG_PROBE_MS) s.longTimeouts++;
      this.events.timedOut(replicaId, s.longTimeouts);
    } else {
      s.timeouts = s.longTimeouts = 0;
      this.events.answered(replicaId, r);
    }
    return r;
  }
}
