// The control-plane bench's fake agent must stay one the real controller adopts: when the
// controller's rules change (fencing made it drop heartbeats without a generation), the bench's
// 1,000-replica part silently measured nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as natsConnect } from "nats";
import { describe, expect, it } from "vitest";
import { startLocalCluster } from "@tsserve/cluster";
import { decode, membersSubject, type MembershipSnapshot } from "@tsserve/protocol/internal";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { echoApplication } from "../../packages/cluster/test/fixtures/echo-application.js";
import { fakeAgent } from "../harness/fake-agent.js";

describe("the control-plane bench's fake agent", () => {
  it("hosts replicas a real controller adopts and broadcasts as RUNNING, and stops them", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "tsserve-fake-agent-"));
    const cluster = await startLocalCluster({
      stateDir,
      prefix: "fa",
      agents: 0,
      natsPort: await freePort(),
      logs: "file",
    });
    const nc = await natsConnect({ servers: cluster.address });
    const agent = fakeAgent(nc, cluster.prefix, "fake-node");
    try {
      let last: MembershipSnapshot | undefined;
      nc.subscribe(membersSubject(cluster.prefix, "fa-app", "Echo"), {
        callback: (_e, m) => (last = decode(m.data) as MembershipSnapshot),
      });
      await waitUntil(
        async () => (await cluster.client.status()).nodes.some((n) => n.nodeId === "fake-node"),
        {
          message: "the fake agent in status",
        },
      );
      await cluster.client.deploy({ applications: [echoApplication("fa-app", { numReplicas: 50 })] });
      await waitUntil(() => last?.replicas.length === 50, {
        timeoutMs: 20_000,
        message: () => `a 50-replica broadcast (last had ${last?.replicas.length ?? "none"})`,
      });
      expect(new Set(last!.replicas.map((r) => r.replicaId))).toEqual(new Set(agent.hosted.keys()));
      await cluster.client.deploy({ applications: [echoApplication("fa-app", { numReplicas: 10 })] });
      await waitUntil(() => last?.replicas.length === 10 && agent.hosted.size === 10, {
        timeoutMs: 20_000,
        message: () => `scaled down to 10 (broadcast ${last?.replicas.length}, hosted ${agent.hosted.size})`,
      });
    } finally {
      agent.stop();
      await nc.close();
      await cluster.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
