// Issue 11: three "machines" (network namespaces), a 3-node NATS cluster, a controller and an agent
// on each. The control plane must survive the loss of any one machine, and a machine cut off for
// longer than every timeout must not bring its replaced replicas back when it returns.
import { describe, expect, it } from "vitest";
import { connect, type Client } from "@tsserve/handle";
import { decode, type MembershipSnapshot } from "@tsserve/protocol/internal";
import { type StatusReport } from "@tsserve/protocol";
import { processAlive, processCommand, sleep, waitUntil } from "@tsserve/test-utils";
import { defaultStateBucket } from "@tsserve/controller/internal";
import { TARGET, targetApplication } from "../src/chaos-cluster.js";
import { startMachineCluster, type MachineCluster } from "../src/machine-cluster.js";
import { requireNetns } from "../src/netns.js";

const BUCKET_STREAM = `KV_${defaultStateBucket("mm")}`;
/**
 * Sticky without fallbacks: a session is served only by its ring owner, so its counter could only
 * go backwards by returning to a replica holding older state (a replaced one), never by spilling
 * between live replicas.
 */
const STICKY = {
  requestRouter: { class: "ConsistentHash", kwargs: { numVirtualNodes: 100, numFallbackReplicas: 0 } },
};

function replicasOf(s: StatusReport, app: string): { replicaId: string; nodeId: string; state: string }[] {
  return s.applications.find((a) => a.name === app)?.deployments.flatMap((d) => d.replicas) ?? [];
}

/** Calls from `loops` concurrent loops; records success times and per-session counter regressions. */
function sessionTraffic(client: Client, app: string, sessions: number) {
  const handle = client.getDeploymentHandle(TARGET, { app });
  const okTimes: number[] = [];
  const seen = new Map<string, number>();
  const servedBy = new Map<string, string[]>();
  let failed = 0;
  let backwards = 0;
  let running = true;
  const loop = async (s: number): Promise<void> => {
    const session = `session-${s}`;
    for (let i = 0; running && i < 1_000_000; i++) {
      try {
        const last = seen.get(session) ?? 0;
        const r = (await handle
          .options({ sessionId: session, method: "bump", timeoutMs: 4000 })
          .remote(last)) as {
          replica: string;
          n: number;
        };
        if (r.n <= last) backwards++;
        seen.set(session, Math.max(last, r.n));
        const by = servedBy.get(session) ?? [];
        if (by.at(-1) !== r.replica) by.push(r.replica);
        servedBy.set(session, by);
        okTimes.push(Date.now());
      } catch {
        failed++;
      }
      await sleep(25);
    }
  };
  const loops = Array.from({ length: sessions }, (_, s) => loop(s));
  return {
    okTimes,
    servedBy,
    get failed() {
      return failed;
    },
    get backwards() {
      return backwards;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The longest stretch without a successful call between `from` and `to`. */
function maxGap(times: number[], from: number, to: number): number {
  const ts = [from, ...times.filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  let gap = 0;
  for (let i = 1; i < ts.length; i++) gap = Math.max(gap, ts[i]! - ts[i - 1]!);
  return gap;
}

async function streamLeader(mc: MachineCluster, machines: number[]): Promise<string | undefined> {
  const nc = await mc.connect(machines);
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2000 });
    const info = await jsm.streams.info(BUCKET_STREAM);
    return info.cluster?.leader;
  } finally {
    await nc.close();
  }
}

describe("tsserve on three machines (network namespaces)", () => {
  it("fails clearly when network namespaces are unavailable, and they are here", () => {
    // CI runs as root: this must not throw. It is a test of its own so that the reason is plain.
    expect(() => requireNetns()).not.toThrow();
  });

  it("survives the machine holding the leader and the KV leader: a standby answers and deploys within 10 s", async () => {
    await using mc = await startMachineCluster({
      controllerArgs: ["--lease-ttl-ms", "2000", "--lease-renew-ms", "500", "--agent-timeout-ms", "3000"],
    });
    // A user retrying `tsserve status`: a request that reached the dead leader times out after 1 s.
    const admin = await mc.controllerClient([1, 2], 1000);
    // The takeover is timed with short attempts: with 1 s attempts the measure itself was up to
    // 1.1 s late (a standby answering at 9.0 s was seen at 9.9 s or 11.0 s).
    const prober = await mc.controllerClient([1, 2], 250);
    await admin.deploy({ applications: [targetApplication("ha", { ...STICKY, numReplicas: 3 })] });
    await waitUntil(
      async () => replicasOf(await admin.status(), "ha").filter((r) => r.state === "RUNNING").length === 3,
      { timeoutMs: 60_000, intervalMs: 250, message: "3 RUNNING replicas of ha" },
    );
    const before = await admin.status();
    expect(before.controller?.id).toBe("ctl-m1");
    // The state bucket is replicated on all three servers; move its leader to m1 if it is not there.
    const jsNc = await mc.connect([0]);
    const jsm = await jsNc.jetstreamManager();
    expect((await jsm.streams.info(BUCKET_STREAM)).config.num_replicas).toBe(3);
    for (let i = 0; i < 20 && (await streamLeader(mc, [0])) !== "m1"; i++) {
      await jsNc
        .request(`$JS.API.STREAM.LEADER.STEPDOWN.${BUCKET_STREAM}`, new Uint8Array(0), { timeout: 2000 })
        .catch(() => undefined);
      await sleep(1500);
    }
    expect(await streamLeader(mc, [0])).toBe("m1");
    await jsNc.close();

    const client = await connect({
      address: `${mc.urls[1]},${mc.urls[2]}`,
      prefix: mc.prefix,
      natsOptions: { pingInterval: 1000, maxPingOut: 3 },
    });
    const traffic = sessionTraffic(client, "ha", 12);
    await sleep(2000);
    const killedAt = Date.now();
    const attempts: string[] = [];
    mc.lab.machines[0]!.kill();
    console.log(`killed m1 at ${new Date(killedAt).toISOString()}`);
    // A standby answers status (it leads now) and accepts a deploy.
    const status = await waitUntil(
      async () => {
        const t = Date.now();
        const s = await prober
          .status()
          .catch(
            (e: Error) => void attempts.push(`${t - killedAt}:${Date.now() - t}:${e.message.slice(0, 40)}`),
          );
        return s?.controller?.id !== undefined && s.controller.id !== "ctl-m1" ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "a standby controller answering status" },
    );
    const statusMs = Date.now() - killedAt;
    await prober.close();
    console.log(`status attempts: ${attempts.join(" | ")}`);
    await admin.deploy({ applications: [targetApplication("ha-after", { numReplicas: 1 })] });
    const deployMs = Date.now() - killedAt;
    await waitUntil(
      async () => {
        const s = await admin.status();
        const ha = replicasOf(s, "ha");
        return (
          ha.filter((r) => r.state === "RUNNING" && r.nodeId !== "m1").length === 3 &&
          replicasOf(s, "ha-after").some((r) => r.state === "RUNNING")
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: "ha back to 3 RUNNING replicas on m2/m3, ha-after RUNNING",
      },
    );
    await sleep(2000);
    const end = Date.now();
    await traffic.stop();
    await client.close();
    const gap = maxGap(traffic.okTimes, killedAt - 1000, end);
    console.log(
      `machine m1 (leader ctl-m1 + KV leader) killed: ${status.controller?.id} answered status after ${statusMs} ms, ` +
        `deploy accepted after ${deployMs} ms; traffic: ${traffic.okTimes.length} ok, ${traffic.failed} failed, ` +
        `longest gap without a successful call ${gap} ms, ${traffic.backwards} counters backwards`,
    );
    expect(statusMs).toBeLessThan(10_000);
    expect(deployMs).toBeLessThan(10_000);
    expect(gap).toBeLessThan(5000);
    expect(traffic.backwards).toBe(0);
  }, 240_000);

  it("a worker cut off longer than every timeout, then healed: no replaced replica serves again", async () => {
    await using mc = await startMachineCluster({ controllerArgs: ["--agent-timeout-ms", "3000"] });
    const admin = await mc.controllerClient([0, 1]);
    await admin.deploy({ applications: [targetApplication("part", { ...STICKY, numReplicas: 3 })] });
    const placed = await waitUntil(
      async () => {
        const rs = replicasOf(await admin.status(), "part");
        return rs.filter((r) => r.state === "RUNNING").length === 3 && rs.some((r) => r.nodeId === "m3")
          ? rs
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: "3 RUNNING replicas of part, one on m3" },
    );
    const onM3 = placed.filter((r) => r.nodeId === "m3").map((r) => r.replicaId);
    const m3 = mc.lab.machines[2]!;
    const m3Replicas = m3.pids().filter((p) => processCommand(p).includes("replica/dist/main.js"));
    expect(m3Replicas.length).toBe(onM3.length);

    // Every membership snapshot, as the majority side publishes it.
    const watcher = await mc.connect([0, 1]);
    const snapshots: { at: number; s: MembershipSnapshot }[] = [];
    watcher.subscribe(`${mc.prefix}.members.part.${TARGET}`, {
      callback: (_e, m) => snapshots.push({ at: Date.now(), s: decode(m.data) as MembershipSnapshot }),
    });
    const client = await connect({
      address: `${mc.urls[0]},${mc.urls[1]}`,
      prefix: mc.prefix,
      natsOptions: { pingInterval: 1000, maxPingOut: 3 },
    });
    const traffic = sessionTraffic(client, "part", 24);
    await sleep(2000);

    // Longer than the agent and heartbeat timeouts and the controller's 60 s tombstones.
    const CUT_MS = 65_000;
    const cutAt = Date.now();
    m3.cut();
    await waitUntil(
      async () => {
        const rs = replicasOf(await admin.status(), "part");
        return rs.filter((r) => r.state === "RUNNING" && r.nodeId !== "m3").length === 3;
      },
      // When m3 held the bucket's raft leader, the lease lapses until m1 and m2 elect a new one.
      { timeoutMs: 45_000, intervalMs: 250, message: () => `m3's replicas replaced on m1/m2\n${mc.logs()}` },
    );
    const replacedMs = Date.now() - cutAt;
    await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
    m3.heal();
    const healedAt = Date.now();
    // The old replicas, alive all along behind the cut, are told to stop and exit.
    await waitUntil(() => m3Replicas.every((p) => !processAlive(p)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "m3's replaced replica processes to exit after the heal",
    });
    const fencedMs = Date.now() - healedAt;
    await sleep(5000);
    const end = Date.now();
    await traffic.stop();
    await client.close();
    // The healed server rejoins the raft groups of JetStream's metadata and of the bucket with the
    // higher term it reached campaigning alone (nats-server 2.9 has no pre-vote), which deposes
    // their leaders: JetStream answers nothing until both are elected again (10 s on an idle
    // machine, 17 s and once over 30 s under the full suite's load), then a controller (the same
    // or a standby) takes the lease back and recovers.
    const after = replicasOf(
      await waitUntil(() => admin.status().catch(() => undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: () => `a controller answering after the heal\n${mc.logs()}`,
      }),
      "part",
    );
    const controlPlaneBackMs = Date.now() - healedAt;
    // A slow return passes, but its timeline (JetStream elections, lease, recovery) is worth keeping.
    if (controlPlaneBackMs > 20_000) console.log(`slow control-plane return after the heal:\n${mc.logs()}`);

    const removedAt =
      snapshots.find((x) => !x.s.replicas.some((r) => onM3.includes(r.replicaId)))?.at ?? Infinity;
    const readopted = snapshots.filter(
      (x) => x.at > removedAt && x.s.replicas.some((r) => onM3.includes(r.replicaId)),
    );
    const servedAfterHeal = traffic.okTimes.filter((t) => t > healedAt).length;
    console.log(
      `m3 cut for ${CUT_MS} ms: replaced after ${replacedMs} ms; after the heal its old replicas exited in ${fencedMs} ms; ` +
        `re-adopted ${readopted.length}; control plane answering ${controlPlaneBackMs} ms after the heal; counters backwards ${traffic.backwards}; ` +
        `calls ${traffic.okTimes.length} ok (${servedAfterHeal} after the heal), ${traffic.failed} failed`,
    );
    expect(readopted).toEqual([]);
    expect(traffic.backwards).toBe(0);
    expect(after.filter((r) => r.state === "RUNNING").length).toBe(3);
    expect(after.some((r) => onM3.includes(r.replicaId))).toBe(false);
    expect(servedAfterHeal).toBeGreaterThan(0);
    expect(maxGap(traffic.okTimes, healedAt, end)).toBeLessThan(3000);
  }, 300_000);
});
