import type { CallOutcome } from "./session-history.js";
import type { SessionScenario } from "./session-scenarios.js";

/**
 * Error codes a call may fail with when a replica dies under it: the replica was lost with the
 * call in flight, the caller's timeout passed (a call forwarded to the dead owner), the next owner
 * could not acquire the session in time, or a replica on its way out had nowhere to send it. All
 * typed and retryable; anything else (an untyped error, a driver's HUNG watchdog) is a bug.
 */
export const FAULT_ERROR_CODES: ReadonlySet<string> = new Set([
  "REPLICA_DIED",
  "TIMEOUT",
  "SESSION_HANDOFF_TIMEOUT",
  "UNAVAILABLE",
]);

/**
 * Sessions whose last acknowledged call before `at` ran on `replica` and that called again after
 * `at`: the sessions `replica` owned when it was killed at `at`.
 */
export function sessionsOwnedAt(outcomes: readonly CallOutcome[], replica: string, at: number): Set<string> {
  const last = new Map<string, { end: number; replica: string }>();
  const after = new Set<string>();
  for (const o of outcomes) {
    const r = o.reply;
    if (!r) continue;
    if (r.start > at) after.add(r.session);
    if (r.end < at && (last.get(r.session)?.end ?? -Infinity) < r.end)
      last.set(r.session, { end: r.end, replica: r.replica });
  }
  return new Set([...last].filter(([s, l]) => l.replica === replica && after.has(s)).map(([s]) => s));
}

/** A replica the controller took out for missed heartbeats: a fault, whatever phase it fell in. */
export interface Eviction {
  replica: string;
  /** Epoch ms of the controller's log line. */
  at: number;
}

/**
 * The evictions in controller log lines (`replica X removed: no heartbeat for N ms`): a replica
 * starved or stopped for longer than `heartbeatTimeoutS`, as on a machine loaded far past its
 * cores. Pass `cc.grepLogs(EVICTION_LINE)`.
 */
export const EVICTION_LINE = /\[controller\] replica \S+ removed: no heartbeat/;

export function evictionsIn(lines: readonly string[]): Eviction[] {
  const out: Eviction[] = [];
  for (const line of lines) {
    const m = /^(\S+Z) .*\[controller\] replica (\S+) removed: no heartbeat/.exec(line);
    const at = m ? Date.parse(m[1]!) : NaN;
    if (m && Number.isFinite(at)) out.push({ replica: m[2]!, at });
  }
  return out;
}

/**
 * What issue 19 allows of failed calls, phase by phase; returns one line per breach (none: all
 * held). A planned change (rolling update, scaling, drain) fails no call: calls that arrive during
 * a hand-off wait for it. A fault fails only calls of the sessions its dead replicas owned, each
 * with a typed error from {@link FAULT_ERROR_CODES}, at most `perSession` per such session (each
 * session has one call in flight per driver loop: two loops per session by default). A fault that
 * killed no replica (a controller restart) fails none. `evictions` ({@link evictionsIn}) turn the
 * planned phases they fall in into faults.
 */
export function callLossBreaches(
  scenario: SessionScenario,
  outcomes: readonly CallOutcome[],
  evictions: readonly Eviction[] = [],
  perSession = 2,
): string[] {
  const out: string[] = [];
  const phases = scenario.failedByPhase(outcomes);
  for (const [i, { phase: p, failed }] of phases.entries()) {
    const total = Object.values(failed).reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    const codes = Object.entries(failed)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    // A planned phase in which the controller evicted a replica for missed heartbeats had a
    // fault in it: it is held to the fault's bound, with the evicted replicas as the dead ones.
    const end = phases[i + 1]?.phase.at ?? Infinity;
    const evicted = evictions.filter((e) => e.at >= p.at && e.at < end);
    const phase = evicted.length > 0 ? { ...p, planned: false } : p;
    if (phase.planned) {
      out.push(`${phase.name} (planned): ${total} failed calls (${codes}), 0 allowed`);
      continue;
    }
    const untyped = Object.keys(failed).filter((k) => !FAULT_ERROR_CODES.has(k));
    if (untyped.length > 0) out.push(`${phase.name}: failed with ${untyped.join(", ")} (${codes})`);
    const dead = [...phase.killed.map((replica) => ({ replica, at: phase.struckAt })), ...evicted];
    const owned = new Set(dead.flatMap((k) => [...sessionsOwnedAt(outcomes, k.replica, k.at)]));
    if (total > perSession * owned.size)
      out.push(
        `${phase.name}: ${total} failed calls (${codes}), over ${perSession} × ${owned.size} sessions its dead replicas owned`,
      );
  }
  return out;
}
