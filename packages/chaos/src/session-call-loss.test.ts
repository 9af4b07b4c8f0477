import { describe, expect, it } from "vitest";
import type { ChaosCluster } from "./chaos-cluster.js";
import { callLossBreaches, evictionsIn, sessionsOwnedAt } from "./session-call-loss.js";
import type { CallOutcome } from "./session-history.js";
import { SessionScenario } from "./session-scenarios.js";

/** A scenario with given phases (no cluster: only the bookkeeping is under test). */
function scenarioWith(phases: SessionScenario["phases"]): SessionScenario {
  const s = new SessionScenario({} as ChaosCluster, "app", { numReplicas: 2 }, () => undefined);
  s.phases.push(...phases);
  return s;
}

const ok = (session: string, seq: number, replica: string, start: number): CallOutcome => ({
  session,
  seq,
  sentAt: start,
  reply: { session, seq, replica, start, end: start + 1, saw: [], lost: false },
});
const failed = (session: string, seq: number, at: number, error = "TIMEOUT"): CallOutcome => ({
  session,
  seq,
  sentAt: at,
  error,
});

describe("callLossBreaches", () => {
  const phases = [
    { name: "scale 4 → 8", at: 100, struckAt: 100, convergedMs: 1, killed: [], planned: true },
    { name: "replica SIGKILL 1/1", at: 200, struckAt: 200, convergedMs: 1, killed: ["r1"], planned: false },
  ];

  it("allows no failed call in a planned phase", () => {
    const s = scenarioWith(phases);
    expect(callLossBreaches(s, [failed("a", 1, 150)])).toEqual([
      "scale 4 → 8 (planned): 1 failed calls (TIMEOUT=1), 0 allowed",
    ]);
  });

  it("bounds a fault's failures by the sessions its dead replicas owned, and wants them typed", () => {
    const s = scenarioWith(phases);
    // r1 owned session a (its last call before the kill ran there, and it called again after).
    const history = [
      ok("a", 1, "r1", 190),
      ok("a", 2, "r2", 260),
      ok("b", 1, "r2", 190),
      ok("b", 2, "r2", 260),
    ];
    expect(callLossBreaches(s, [...history, failed("a", 3, 210, "REPLICA_DIED")])).toEqual([]);
    expect(
      callLossBreaches(s, [...history, ...[3, 4, 5].map((q) => failed("a", q, 210, "REPLICA_DIED"))]),
    ).toEqual([
      "replica SIGKILL 1/1: 3 failed calls (REPLICA_DIED=3), over 2 × 1 sessions its dead replicas owned",
    ]);
    expect(callLossBreaches(s, [...history, failed("a", 3, 210, "UNTYPED boom")])).toEqual([
      "replica SIGKILL 1/1: failed with UNTYPED boom (UNTYPED boom=1)",
    ]);
  });

  it("holds a planned phase with a heartbeat eviction in it to the fault's bound", () => {
    const s = scenarioWith(phases);
    const history = [ok("a", 1, "r3", 110), ok("a", 2, "r2", 190)];
    const evictions = evictionsIn([
      "2026-12-06T22:27:53.133Z INFO  [controller] replica r3 removed: no heartbeat for 2079 ms",
    ]);
    expect(evictions).toEqual([{ replica: "r3", at: Date.parse("2026-12-06T22:27:53.133Z") }]);
    const at = evictions[0]!.at;
    const shifted = scenarioWith([
      { ...phases[0]!, at: at - 50 },
      { ...phases[1]!, at: at + 500, struckAt: at + 500 },
    ]);
    const calls = [ok("a", 1, "r3", at - 20), ok("a", 2, "r2", at + 100), failed("a", 3, at + 10)];
    expect(callLossBreaches(shifted, calls, evictions)).toEqual([]);
    expect(callLossBreaches(shifted, calls)).toHaveLength(1);
    expect(callLossBreaches(s, history, evictions)).toEqual([]);
  });
});

describe("sessionsOwnedAt", () => {
  it("counts a session by where it was when the kill struck, not when the phase began", () => {
    // The phase began at 200 and the SIGKILL struck r1 at 250 (its target was looked up between).
    // Session c ran on r1 before the phase and in between, and never called after the kill: it
    // lost nothing anyone could see. Session d called after the kill: r1 owned it.
    const history = [
      ok("c", 1, "r1", 190),
      ok("c", 2, "r1", 220),
      ok("d", 1, "r1", 190),
      ok("d", 2, "r1", 230),
      ok("d", 3, "r2", 300),
    ];
    expect([...sessionsOwnedAt(history, "r1", 250)]).toEqual(["d"]);
    expect([...sessionsOwnedAt(history, "r1", 200)].sort()).toEqual(["c", "d"]);
  });
});
