import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@tsserve/handle";
import {
  AGENT_OPS,
  agentSubject,
  encode,
  heartbeatSubject,
  membersSubject,
} from "@tsserve/protocol/internal";
import { startNatsServer, waitUntil, type NatsServer } from "@tsserve/test-utils";
import {
  TARGET,
  startChaosCluster,
  targetApplication,
  waitConverged,
  type ChaosCluster,
} from "../src/chaos-cluster.js";
import { pidAlive } from "../src/faults.js";
import { formatTraffic, startTraffic } from "../src/traffic.js";

const APP = "fg";
const PREFIX = "forged";
const NODE = "forgednode";

// Well-formed messages with lies in them: what an unauthenticated NATS user could publish on the
// control-plane subjects. Nothing may crash, and the cluster must converge back to the truth.
describe("forged control-plane messages", () => {
  let server: NatsServer;
  let cc: ChaosCluster;

  beforeAll(async () => {
    server = await startNatsServer();
    cc = await startChaosCluster({ address: server.url, prefix: PREFIX, agents: 1, nodeIds: [NODE] });
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 2 })] });
    await waitConverged(cc, APP, 2);
  });
  afterAll(async () => {
    await cc?.stop();
    await server?.stop();
  });

  it("survives forged heartbeats, agent reports and membership snapshots, and converges again", async () => {
    const nc = cc.client.nc;
    const ids = await waitConverged(cc, APP, 2);
    const real = ids[0]!;
    const hb = (replicaId: string, state: string, pid = 999_999): Uint8Array =>
      encode({
        replicaId,
        app: APP,
        deployment: TARGET,
        nodeId: NODE,
        state,
        ongoing: 0,
        pid,
        startedAt: Date.now(),
        codeVersion: "v1",
      });
    const traffic = startTraffic(cc.handle(APP), { sessions: 8, timeoutMs: 3000, pauseMs: 30 });
    const forged: string[] = [];
    const send = (what: string, subject: string, body: Uint8Array): void => {
      nc.publish(subject, body);
      forged.push(what);
    };
    // A replica nobody started announces itself RUNNING; a real one is declared STOPPED and FAILED.
    send(
      "RUNNING heartbeat of a ghost replica",
      heartbeatSubject(PREFIX, APP, TARGET, "Target-ghost1"),
      hb("Target-ghost1", "RUNNING"),
    );
    send(
      "STOPPED heartbeat of a live replica",
      heartbeatSubject(PREFIX, APP, TARGET, real),
      hb(real, "STOPPED"),
    );
    send(
      "heartbeat with an unknown state",
      heartbeatSubject(PREFIX, APP, TARGET, real),
      hb(real, "EXPLODED"),
    );
    send(
      "agent exit report of a live replica",
      agentSubject(PREFIX, NODE, AGENT_OPS.exit),
      encode({
        nodeId: NODE,
        replicaId: ids[1],
        app: APP,
        deployment: TARGET,
        code: 1,
        signal: null,
        stderrTail: "forged",
      }),
    );
    send(
      "agent heartbeat listing no replicas",
      agentSubject(PREFIX, NODE, AGENT_OPS.heartbeat),
      encode({ nodeId: NODE, pid: 1, hostname: "forged", startedAt: 0, replicas: [] }),
    );
    send(
      "heartbeat of an agent that does not exist",
      agentSubject(PREFIX, "ghostnode", AGENT_OPS.heartbeat),
      encode({ nodeId: "ghostnode", pid: 1, hostname: "forged", startedAt: 0, replicas: [] }),
    );
    // Membership snapshots: an old version with a garbage replica list must be ignored by handles.
    const config = {
      maxOngoingRequests: 16,
      maxQueuedRequests: -1,
      requestRouter: { class: "ConsistentHash", kwargs: {} },
    };
    for (const replicas of [[], "nope", [null], [{ replicaId: 5 }], [{ replicaId: "ghost", nodeId: NODE }]]) {
      send(
        `old-version snapshot with replicas ${JSON.stringify(replicas)}`,
        membersSubject(PREFIX, APP, TARGET),
        encode({ app: APP, deployment: TARGET, version: 1, replicas, config }),
      );
    }
    send(
      "snapshot for another deployment on this subject",
      membersSubject(PREFIX, APP, TARGET),
      encode({ app: "other", deployment: "Other", version: Number.MAX_SAFE_INTEGER, replicas: [], config }),
    );
    await nc.flush();
    await new Promise((r) => setTimeout(r, 4000));
    const report = await traffic.stop();
    console.log(`forged control messages: ${forged.join("; ")}\ntraffic meanwhile: ${formatTraffic(report)}`);

    expect(report.untyped, report.examples.join("\n")).toBe(0);
    expect(report.hung, report.examples.join("\n")).toBe(0);
    expect(report.unaccounted).toBe(0);
    expect(report.ok).toBeGreaterThan(50);
    // Converged: 2 RUNNING replicas, membership equal to them, no orphan left on the agent.
    const after = await waitConverged(cc, APP, 2, 30_000);
    console.log(`replicas before the forgeries: ${ids.join(", ")}; after: ${after.join(", ")}`);
    expect(pidAlive(cc.cluster.pids.controller)).toBe(true);
    for (const pid of cc.cluster.pids.agents) expect(pidAlive(pid)).toBe(true);
    const v = (await cc.handle(APP).options({ timeoutMs: 3000 }).remote("after-forgery")) as {
      input: unknown;
    };
    expect(v.input).toBe("after-forgery");
  });

  it("recovers a handle from a forged membership snapshot with a huge version", async () => {
    await using client = await connect({ address: server.url, prefix: PREFIX });
    const handle = client.getDeploymentHandle<unknown>(TARGET, { app: APP });
    await handle.options({ timeoutMs: 3000 }).remote("warm");
    const config = {
      maxOngoingRequests: 16,
      maxQueuedRequests: -1,
      requestRouter: { class: "ConsistentHash", kwargs: {} },
    };
    for (const replicas of [[{ replicaId: "ghost", nodeId: NODE }], [null], [{ replicaId: 5 }]]) {
      client.nc.publish(
        membersSubject(PREFIX, APP, TARGET),
        encode({ app: APP, deployment: TARGET, version: Number.MAX_SAFE_INTEGER - 1, replicas, config }),
      );
    }
    await client.nc.flush();
    const started = Date.now();
    const outcome = await waitUntil(
      async () =>
        handle
          .options({ timeoutMs: 1000 })
          .remote("x")
          .then(
            () => "ok",
            () => undefined,
          ),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
        message: "the handle routes to real replicas again after a forged high-version snapshot",
      },
    );
    console.log(`forged high-version snapshot: calls succeed again after ${Date.now() - started} ms`);
    expect(outcome).toBe("ok");
  });
});
