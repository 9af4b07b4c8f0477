// An agent SIGKILLed while one of its replicas is STARTING, then restarted under the same node id
// (as a supervisor does): the replica died with it and no exit is ever reported. The controller must
// replace it once the new agent's heartbeats stop listing it, not after the 60 s startup timeout
// (which would also mark the deployment UNHEALTHY for a fault of the machine).
import { describe, expect, it } from "vitest";
import { startNatsServer, waitUntil } from "@tsserve/test-utils";
import { startChaosCluster, targetApplication, targetStatus, waitConverged } from "../src/chaos-cluster.js";
import { pidAlive } from "../src/faults.js";

const APP = "restart";

describe("agent restarted while a replica is STARTING", () => {
  it("replaces the replica within seconds, well inside the startup timeout, and stays HEALTHY", async () => {
    await using server = await startNatsServer();
    await using cc = await startChaosCluster({
      address: server.url,
      prefix: "agentrestart",
      agents: 0,
      extraAgents: [{ nodeId: "restart-a", address: server.url }],
    });
    await cc.cluster.client.deploy({
      applications: [
        { ...targetApplication(APP, { numReplicas: 1 }), importPath: "target-app.ts#slowStart" },
      ],
    });
    // Spawned (its agent told the pid) and still in initialize().
    const starting = await waitUntil(
      async () =>
        (await targetStatus(cc.cluster, APP))?.replicas.find((r) => r.state === "STARTING" && r.pid > 0),
      { timeoutMs: 20_000, intervalMs: 50, message: "a STARTING replica with a pid" },
    );
    const t0 = Date.now();
    await cc.respawnAgent(0);
    await waitUntil(() => !pidAlive(starting.pid), {
      timeoutMs: 10_000,
      message: "the replica died with its agent",
    });

    const ids = await waitConverged(cc, APP, 1, 30_000);
    const tookMs = Date.now() - t0;
    expect(ids).not.toContain(starting.replicaId);
    // The startup timeout is 60 s: the replacement came from the agent's listing, not from it.
    expect(tookMs).toBeLessThan(30_000);
    expect((await targetStatus(cc.cluster, APP))?.status).toBe("HEALTHY");
    expect(cc.grepLogs(/removed while STARTING: agent restart-a no longer lists it/)).toHaveLength(1);
    console.log(`agent restart while STARTING: replaced and converged in ${tookMs} ms`);
  }, 90_000);
});
