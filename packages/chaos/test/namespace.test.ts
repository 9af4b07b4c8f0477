import { describe, expect, it } from "vitest";
import { startNatsServer } from "@tsserve/test-utils";
import { replicaPids } from "../src/faults.js";
import { startChaosCluster, targetApplication, waitConverged } from "../src/chaos-cluster.js";
import { formatTraffic, startTraffic, typedFailures } from "../src/traffic.js";

const APP = "shared";

describe("two tsserve clusters with different prefixes on one NATS server", () => {
  it("never see each other's deployments, calls, deletes or shutdowns", async () => {
    await using server = await startNatsServer();
    await using a = await startChaosCluster({ address: server.url, prefix: "nsa", agents: 1 });
    const b = await startChaosCluster({ address: server.url, prefix: "team.nsb", agents: 1 });
    try {
      // The same application name in both namespaces, with different replica counts.
      await a.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 2 })] });
      await b.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 1 })] });
      const idsA = await waitConverged(a, APP, 2);
      const idsB = await waitConverged(b, APP, 1);
      expect(idsA.filter((id) => idsB.includes(id))).toEqual([]);
      const statusA = await a.cluster.client.status();
      const statusB = await b.cluster.client.status();
      expect(statusA.nodes.map((n) => n.nodeId)).toEqual(a.cluster.nodeIds);
      expect(statusB.nodes.map((n) => n.nodeId)).toEqual(b.cluster.nodeIds);

      // Calls through each namespace land only on that namespace's replicas.
      const ta = startTraffic(a.handle(APP), {
        sessions: 10,
        timeoutMs: 3000,
        pauseMs: 10,
        sessionPrefix: "a",
      });
      const tb = startTraffic(b.handle(APP), {
        sessions: 10,
        timeoutMs: 3000,
        pauseMs: 10,
        sessionPrefix: "b",
      });
      await new Promise((r) => setTimeout(r, 1500));
      const pidsB = await replicaPids(b.cluster, APP);

      // Deleting the app in A and then shutting A down leave B untouched.
      await a.cluster.client.delete(APP);
      await new Promise((r) => setTimeout(r, 1500));
      const midA = ta.report();
      expect((await b.cluster.client.status()).applications.map((x) => x.name)).toEqual([APP]);
      await a.stop();
      await new Promise((r) => setTimeout(r, 1500));
      const ra = await ta.stop();
      const rb = await tb.stop();
      console.log(
        `namespace A (deleted, then shut down): ${formatTraffic(ra)}\nnamespace B: ${formatTraffic(rb)}`,
      );

      expect([...ra.perReplica.keys()].every((id) => idsA.includes(id))).toBe(true);
      expect([...rb.perReplica.keys()]).toEqual(idsB);
      expect(midA.ok).toBeGreaterThan(0);
      // B saw no failure at all, and its replica process is the same one.
      expect(rb.ok).toBe(rb.sent);
      expect(typedFailures(rb) + rb.untyped + rb.hung).toBe(0);
      expect(await replicaPids(b.cluster, APP)).toEqual(pidsB);
      expect(await waitConverged(b, APP, 1)).toEqual(idsB);
      // A's calls after its delete failed typed, none hung.
      expect(ra.untyped + ra.hung + ra.unaccounted).toBe(0);
    } finally {
      await b.stop();
    }
  });
});
