// Issue 19, "Done when", memory mode: the same 300 sessions and driver processes as the durable
// test through every planned change (rolling update, 4 → 8 → 4, a drain) with no lost update, no
// stale or empty read, no overlap and no failed call; then a replica SIGKILL, after which exactly the dead
// replica's sessions lose their state and the next call of each is told so.
import { describe, expect, it } from "vitest";
import { sessionsOwnedAt } from "../src/session-call-loss.js";
import { formatHistory, violationCount } from "../src/session-history.js";
import { SessionRun } from "../src/session-run.js";

describe("session state, memory: the per-session history checker through planned changes and a crash", () => {
  it("keeps every session through planned changes; a crash loses exactly the dead replica's sessions, and says so", async () => {
    await using run = await SessionRun.start("memory", "histm", "hist-memory");
    const { scenario } = run;
    await run.startDrivers("drivers", 600);
    await scenario.rollingUpdate();
    await scenario.scale(8);
    await scenario.scale(4);
    await scenario.drainAgent(0);
    const planned = await run.stopDrivers();
    const plannedReport = run.check(planned);
    console.log(`memory, planned changes: ${formatHistory(plannedReport)}\n${scenario.format(planned)}`);
    const examples = plannedReport.violations.map((v) => `${v.kind} ${v.session}: ${v.detail}`).join("\n");
    expect(violationCount(plannedReport), examples).toBe(0);
    expect(plannedReport.sessions).toBe(300);
    expect(plannedReport.movedSessions).toBeGreaterThan(150);
    expect(plannedReport.lostSessions.size).toBe(0);
    // Calls that arrive during a hand-off wait for it: no planned change fails a call.
    expect(run.callLossBreaches(planned)).toEqual([]);

    // The crash, with fresh drivers (new seqs on top of the sessions' state).
    await run.startDrivers("drivers-crash", 600, 1_000_000);
    await scenario.sigkillLoop(1);
    await run.drivers!.waitForAcked(900);
    const crashOutcomes = await run.stopDrivers();
    const kill = scenario.phases.at(-1)!;
    const dead = kill.killed[0]!;
    // Both runs in one history: the sessions' states carry over from the first drivers' calls.
    const all = [...planned, ...crashOutcomes];
    const report = run.check(all, { lossAllowed: (_s, previous) => previous === dead });
    const owned = sessionsOwnedAt(all, dead, kill.struckAt);
    console.log(
      `memory, after SIGKILL of ${dead}: ${formatHistory(report)}; sessions it owned: ${owned.size}\n${scenario.format(all)}`,
    );
    const crashExamples = report.violations.map((v) => `${v.kind} ${v.session}: ${v.detail}`).join("\n");
    expect(violationCount(report), crashExamples).toBe(0);
    // Exactly the dead replica's sessions were lost, each told so on its next call.
    expect(owned.size).toBeGreaterThan(20);
    expect([...report.lostSessions.keys()].sort()).toEqual([...owned].sort());
    // The crash fails only calls of the dead replica's sessions, typed, at most one per driver loop.
    expect(run.callLossBreaches(all)).toEqual([]);
  }, 240_000);
});
