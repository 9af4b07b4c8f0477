import { describe, expect, it } from "vitest";
import { seededRandom, startNatsServer } from "@tsserve/test-utils";
import { startChaosCluster, targetApplication, waitConverged } from "../src/chaos-cluster.js";
import { startChaosMonkey } from "../src/chaos-monkey.js";
import { formatTraffic, startTraffic, typedFailures } from "../src/traffic.js";

const APP = "chaos";
// 60 s of faults as the issue asks (the whole chaos suite stays near 2 minutes on 2 cores);
// CHAOS_RUN_S shortens or lengthens it, CHAOS_SEED replays a run's fault sequence.
const RUN_MS = Number(process.env["CHAOS_RUN_S"] ?? 60) * 1000;
const SEED = Number(process.env["CHAOS_SEED"] ?? Date.now() % 1_000_000);
const SESSIONS = 200;
const REPLICAS = 4;

describe("chaos run: 200 sessions under random process faults", () => {
  it(
    "accounts for every request, restores session affinity and converges to the desired state",
    async () => {
      await using server = await startNatsServer();
      await using cc = await startChaosCluster({
        address: server.url,
        prefix: "chaosrun",
        agents: 0,
        extraAgents: [
          { nodeId: "chaos-a", address: server.url },
          { nodeId: "chaos-b", address: server.url },
        ],
      });
      // `echo` is declared idempotent: its calls are retried when their replica dies or stops
      // answering, so they must all succeed; `__call__` calls may fail, typed, when they were running.
      await cc.cluster.client.deploy({
        applications: [targetApplication(APP, { numReplicas: REPLICAS, idempotent: ["echo"] })],
      });
      await waitConverged(cc, APP, REPLICAS);

      const traffic = startTraffic(cc.handle(APP), { sessions: SESSIONS, timeoutMs: 5000, pauseMs: 200 });
      // A deadline longer than it takes to call a frozen replica unreachable (three 1 s probes).
      const idempotent = startTraffic(cc.handle(APP), {
        sessions: 40,
        timeoutMs: 20_000,
        hangSlackMs: 5000,
        pauseMs: 200,
        sessionPrefix: "idem",
        method: "echo",
      });
      const monkey = startChaosMonkey(cc, { app: APP, random: seededRandom(SEED), intervalMs: [2000, 4000] });
      await new Promise((r) => setTimeout(r, RUN_MS));
      const faults = await monkey.stop();
      const report = await traffic.stop();
      const idem = await idempotent.stop();
      console.log(
        `chaos run (seed ${SEED}, ${RUN_MS / 1000} s, ${SESSIONS} sessions): ${formatTraffic(report)}\n` +
          `idempotent echo (40 sessions): ${formatTraffic(idem)}\n` +
          `faults:\n${faults.map((f) => `  +${(f.at / 1000).toFixed(1)}s ${f.kind} ${f.target}${f.applied ? "" : " (missed)"}${f.note ? ` — ${f.note}` : ""}`).join("\n")}`,
      );

      // Every request accounted for: succeeded, or failed with a typed error; none hung.
      expect(report.unaccounted).toBe(0);
      expect(report.inFlight).toBe(0);
      expect(report.hung, report.examples.join("\n")).toBe(0);
      expect(report.untyped, report.examples.join("\n")).toBe(0);
      expect(report.ok + typedFailures(report)).toBe(report.sent);
      // Every kind of fault struck at least once.
      const struck = new Set(faults.filter((f) => f.applied).map((f) => f.kind));
      expect([...struck].sort()).toEqual([
        "agent-sigkill",
        "controller-restart",
        "replica-sigkill",
        "replica-sigstop",
      ]);
      expect(report.ok).toBeGreaterThan(report.sent * 0.8);
      // Non-idempotent calls fail only as the calls that were running on a lost replica, or by
      // their 5 s deadline (a frozen replica); idempotent ones do not fail at all.
      expect(Object.keys(report.typed).filter((c) => c !== "REPLICA_DIED" && c !== "TIMEOUT")).toEqual([]);
      expect(idem.unaccounted + idem.hung + idem.untyped).toBe(0);
      expect(idem.typed, idem.examples.join("\n")).toEqual({});
      expect(idem.ok).toBe(idem.sent);
      expect(idem.sent).toBeGreaterThan(100);

      // Converged: REPLICAS RUNNING, membership equal to them, no orphan process on any agent.
      const ids = await waitConverged(cc, APP, REPLICAS, 60_000);

      // Session affinity restored: every session's calls land on one replica of the final set.
      const handle = cc.handle(APP);
      const owners = new Map<string, string>();
      const broken: string[] = [];
      // At most 16 sessions at a time: no replica can be full (maxOngoingRequests 16), so no call
      // is pushed to a fallback rank and every call must reach its session's ring owner.
      const checkSession = async (i: number): Promise<void> => {
        const sessionId = `s${i}`;
        const seen = new Set<string>();
        for (let n = 0; n < 3; n++) {
          const v = (await handle.options({ sessionId, timeoutMs: 5000 }).remote(n)) as { replica: string };
          seen.add(v.replica);
        }
        if (seen.size !== 1) broken.push(`${sessionId}: ${[...seen].join(", ")}`);
        owners.set(sessionId, [...seen][0]!);
      };
      for (let i = 0; i < SESSIONS; i += 16) {
        await Promise.all(Array.from({ length: Math.min(16, SESSIONS - i) }, (_, k) => checkSession(i + k)));
      }
      expect(broken).toEqual([]);
      expect([...owners.values()].every((r) => ids.includes(r))).toBe(true);
      expect(new Set(owners.values()).size).toBe(REPLICAS);
    },
    RUN_MS + 180_000,
  );
});
