import { describe, expect, it } from "vitest";
import { startNatsServer, waitUntil } from "@tsserve/test-utils";
import { pidAlive, replicaPids } from "../src/faults.js";
import { startChaosCluster, targetApplication, waitConverged } from "../src/chaos-cluster.js";
import { formatTraffic, startTraffic, typedFailures } from "../src/traffic.js";

const APP = "rst";
const OUTAGE_MS = 1500;

describe("a single nats-server restarted under traffic", () => {
  it("reconnects controller, agent, replicas and handles; traffic resumes within seconds; no process restarts", async () => {
    await using server = await startNatsServer();
    await using cc = await startChaosCluster({ address: server.url, prefix: "chaosrst", agents: 1 });
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 2 })] });
    const before = await waitConverged(cc, APP, 2);
    const pidsBefore = { ...cc.cluster.pids, replicas: await replicaPids(cc.cluster, APP) };

    const traffic = startTraffic(cc.handle(APP), { sessions: 20, timeoutMs: 3000, pauseMs: 20 });
    await waitUntil(() => traffic.report().ok >= 100, { timeoutMs: 15_000, message: "warm traffic" });

    // A crash and a restart 1.5 s later (a real restart is never instant): longer than one
    // reconnect attempt, shorter than any sane give-up.
    const restartStarted = Date.now();
    server.process.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await server.restart();
    const restarted = Date.now();
    const okAtRestart = traffic.report().ok;
    // Resumed = 50 more successful calls than when the server came back.
    await waitUntil(() => traffic.report().ok >= okAtRestart + 50, {
      timeoutMs: 15_000,
      intervalMs: 20,
      message: `traffic resumed after the restart (${formatTraffic(traffic.report())})\n${cc.logs()}`,
    });
    const resumedMs = Date.now() - restarted;
    await new Promise((r) => setTimeout(r, 2000));
    const report = await traffic.stop();
    console.log(
      `nats restart: server down ${restarted - restartStarted} ms, traffic resumed ${resumedMs} ms after it came back; ${formatTraffic(report)}`,
    );

    // Every request accounted for: succeeded or failed with a typed error; none hung.
    expect(report.unaccounted).toBe(0);
    expect(report.hung, report.examples.join("\n")).toBe(0);
    expect(report.untyped, report.examples.join("\n")).toBe(0);
    expect(report.ok + typedFailures(report)).toBe(report.sent);
    expect(resumedMs).toBeLessThan(10_000);

    // No process was restarted: same controller, agent and replica pids, all alive.
    const after = await waitConverged(cc, APP, 2);
    expect(after).toEqual(before);
    expect(cc.cluster.pids.controller).toBe(pidsBefore.controller);
    expect(cc.cluster.pids.agents).toEqual(pidsBefore.agents);
    expect(await replicaPids(cc.cluster, APP)).toEqual(pidsBefore.replicas);
    for (const pid of [pidsBefore.controller, ...pidsBefore.agents, ...pidsBefore.replicas.values()]) {
      expect(pidAlive(pid)).toBe(true);
    }

    // The control plane works after the restart too: a scale-up is carried out.
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 3 })] });
    await waitConverged(cc, APP, 3);
  });
});
