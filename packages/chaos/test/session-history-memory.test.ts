// Issue 19, "Done when", memory mode: the same 300 sessions and driver processes as the durable
// test through every planned change (rolling update, 4 → 8 → 4, a drain) with no lost update, no
// stale or empty read, no overlap and no failed call; then a replica SIGKILL, after which exactly the dead
// replica's sessions lose their state and the next call of each is told so.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startNatsServer } from "@tsserve/test-utils";
import { startChaosCluster } from "../src/chaos-cluster.js";
import { readReplicaRecords, sessionHistoryEnv } from "../src/session-cluster.js";
import { startSessionDrivers, type SessionDrivers } from "../src/session-drivers.js";
import { EVICTION_LINE, callLossBreaches, evictionsIn, sessionsOwnedAt } from "../src/session-call-loss.js";
import { checkSessionHistory, formatHistory, violationCount } from "../src/session-history.js";
import { SessionScenario } from "../src/session-scenarios.js";

const APP = "hist-memory";

describe("session state, memory: the per-session history checker through planned changes and a crash", () => {
  it("keeps every session through planned changes; a crash loses exactly the dead replica's sessions, and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsserve-history-"));
    const records = join(dir, "replicas");
    mkdirSync(records);
    let drivers: SessionDrivers | undefined;
    try {
      await using server = await startNatsServer();
      await using cc = await startChaosCluster({
        address: server.url,
        prefix: "histm",
        agents: 0,
        extraAgents: [
          { nodeId: "hm-a", address: server.url },
          { nodeId: "hm-b", address: server.url },
        ],
        env: sessionHistoryEnv(records),
      });
      const scenario = new SessionScenario(
        cc,
        APP,
        { numReplicas: 4, sessionState: { mode: "memory" } },
        () => drivers,
      );
      await scenario.deploy();
      drivers = await startSessionDrivers({
        address: server.url,
        prefix: "histm",
        app: APP,
        dir: join(dir, "drivers"),
      });
      await drivers.waitForAcked(600);
      await scenario.rollingUpdate();
      await scenario.scale(8);
      await scenario.scale(4);
      await scenario.drainAgent(0);
      const planned = await drivers.stop();
      const plannedReport = checkSessionHistory(planned, readReplicaRecords(records));
      console.log(`memory, planned changes: ${formatHistory(plannedReport)}\n${scenario.format(planned)}`);
      const examples = plannedReport.violations.map((v) => `${v.kind} ${v.session}: ${v.detail}`).join("\n");
      expect(violationCount(plannedReport), examples).toBe(0);
      expect(plannedReport.sessions).toBe(300);
      expect(plannedReport.movedSessions).toBeGreaterThan(150);
      expect(plannedReport.lostSessions.size).toBe(0);
      // Calls that arrive during a hand-off wait for it: no planned change fails a call.
      expect(callLossBreaches(scenario, planned, evictionsIn(cc.grepLogs(EVICTION_LINE)))).toEqual([]);

      // The crash, with fresh drivers (new seqs on top of the sessions' state).
      drivers = await startSessionDrivers({
        address: server.url,
        prefix: "histm",
        app: APP,
        dir: join(dir, "drivers-crash"),
        seqBase: 1_000_000,
      });
      await drivers.waitForAcked(600);
      await scenario.sigkillLoop(1);
      await drivers.waitForAcked(900);
      const crashOutcomes = await drivers.stop();
      const kill = scenario.phases.at(-1)!;
      const dead = kill.killed[0]!;
      // Both runs in one history: the sessions' states carry over from the first drivers' calls.
      const all = [...planned, ...crashOutcomes];
      const report = checkSessionHistory(all, readReplicaRecords(records), {
        lossAllowed: (_s, previous) => previous === dead,
      });
      const owned = sessionsOwnedAt(all, dead, kill.at);
      console.log(
        `memory, after SIGKILL of ${dead}: ${formatHistory(report)}; sessions it owned: ${owned.size}\n${scenario.format(all)}`,
      );
      const crashExamples = report.violations.map((v) => `${v.kind} ${v.session}: ${v.detail}`).join("\n");
      expect(violationCount(report), crashExamples).toBe(0);
      // Exactly the dead replica's sessions were lost, each told so on its next call.
      expect(owned.size).toBeGreaterThan(20);
      expect([...report.lostSessions.keys()].sort()).toEqual([...owned].sort());
      // The crash fails only calls of the dead replica's sessions, typed, at most one per driver loop.
      expect(callLossBreaches(scenario, all, evictionsIn(cc.grepLogs(EVICTION_LINE)))).toEqual([]);
    } finally {
      await drivers?.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
