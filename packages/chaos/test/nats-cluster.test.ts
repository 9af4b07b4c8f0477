import { describe, expect, it } from "vitest";
import { connect as natsConnect } from "nats";
import { connect } from "@tsserve/handle";
import { waitUntil } from "@tsserve/test-utils";
import { defaultStateBucket } from "@tsserve/controller/internal";
import { startChaosCluster, targetApplication, waitConverged } from "../src/chaos-cluster.js";
import { startNatsCluster } from "../src/nats-cluster.js";
import { formatTraffic, startTraffic, typedFailures, type Traffic } from "../src/traffic.js";

const APP = "cl";
const PREFIX = "chaoscl";

describe("a 3-node NATS cluster losing one server under traffic", () => {
  it("keeps traffic going: clients fail over, every call ends in its timeout, the cluster converges", async () => {
    await using nats = await startNatsCluster();
    const [n1, n2, n3] = nats.nodes;
    // The controller's KV bucket replicated on all three servers, so losing any one keeps the
    // checkpoint and the leader lease (the controller opens an existing bucket as it is).
    const admin = await natsConnect({ servers: nats.urls.split(",") });
    await (
      await admin.jetstream().views.kv(defaultStateBucket(PREFIX), { history: 1, replicas: 3 })
    ).status();
    await admin.close();

    // Controller (and its admin client) on n1; one agent (with its replicas) on n2, one on n3;
    // handle clients on n1, n2 and n3. Each process gets one URL and learns the others from the
    // cluster's gossip, as a real deployment pointed at one seed server would.
    await using cc = await startChaosCluster({
      address: n1!.url,
      prefix: PREFIX,
      agents: 0,
      extraAgents: [
        { nodeId: "agent-on-n2", address: n2!.url },
        { nodeId: "agent-on-n3", address: n3!.url },
      ],
      clientAddress: n1!.url,
    });
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 4 })] });
    await waitConverged(cc, APP, 4);
    const natsOptions = { maxReconnectAttempts: -1, reconnectTimeWait: 250 };
    await using c2 = await connect({ address: n2!.url, prefix: PREFIX, natsOptions });
    await using c3 = await connect({ address: n3!.url, prefix: PREFIX, natsOptions });
    const opts = { sessions: 10, timeoutMs: 4000, pauseMs: 20 };
    const traffic: Traffic[] = [
      startTraffic(cc.handle(APP), { ...opts, sessionPrefix: "a" }),
      startTraffic(c2.getDeploymentHandle<unknown>("Target", { app: APP }), { ...opts, sessionPrefix: "b" }),
      startTraffic(c3.getDeploymentHandle<unknown>("Target", { app: APP }), { ...opts, sessionPrefix: "c" }),
    ];
    const okNow = (): number => traffic.reduce((n, t) => n + t.report().ok, 0);
    await waitUntil(() => okNow() >= 200, { timeoutMs: 15_000, message: "warm traffic" });

    // Kill n2 (one agent, its replicas and one handle client are on it), then n1 (the controller).
    const resumed: number[] = [];
    for (const victim of [1, 0]) {
      await nats.kill(victim);
      const killedAt = Date.now();
      const base = okNow();
      await waitUntil(() => okNow() >= base + 200, {
        timeoutMs: 20_000,
        intervalMs: 20,
        message: `traffic continues after killing ${nats.nodes[victim]!.name}\n${cc.logs()}`,
      });
      resumed.push(Date.now() - killedAt);
      await nats.restart(victim);
    }

    await new Promise((r) => setTimeout(r, 1000));
    const reports = await Promise.all(traffic.map((t) => t.stop()));
    console.log(
      `nats cluster: 200 more calls succeeded ${resumed[0]} ms after killing n2, ${resumed[1]} ms after killing n1\n` +
        reports.map((r, i) => `client ${i + 1}: ${formatTraffic(r)}`).join("\n"),
    );
    for (const r of reports) {
      expect(r.unaccounted).toBe(0);
      expect(r.hung, r.examples.join("\n")).toBe(0);
      expect(r.untyped, r.examples.join("\n")).toBe(0);
      expect(r.ok + typedFailures(r)).toBe(r.sent);
      // Every call ended within its own deadline (plus scheduling slack on a loaded 2-core box).
      expect(r.maxLatencyMs).toBeLessThan(opts.timeoutMs + 1500);
      expect(r.ok).toBeGreaterThan(r.sent * 0.5);
    }
    // The control plane came through too: the deployment converges, and a scale change works.
    await waitConverged(cc, APP, 4, 45_000);
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 2 })] });
    await waitConverged(cc, APP, 2, 45_000);
  });
});
