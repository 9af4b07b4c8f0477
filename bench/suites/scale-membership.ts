import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as natsConnect, type NatsConnection } from "nats";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { decode, encode, membersSubject, type MembershipSnapshot } from "@tsserve/protocol/internal";
import { changedSets, timedBurst } from "../harness/membership-bursts.js";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { echoApplication } from "../../packages/cluster/test/fixtures/echo-application.js";
import { startChildServer, type ChildServer } from "../harness/child-server.js";
import { fakeAgent } from "../harness/fake-agent.js";
import type { CpuByGroup } from "../harness/proc-cpu.js";
import { startPreciseCpuWindow as startCpuWindow } from "../harness/proc-schedstat.js";
import { round } from "../harness/stats.js";
import type { Row, Suite, SuiteContext, SuiteResult } from "../harness/suite.js";
import { membershipResult } from "./scale-membership-report.js";

const PREFIX = "scm";
const DEPLOYMENT = "Echo";
/** Changed sets the bench publishes per step to time a handle's update (alternately one replica less). */
const CHURN_FULL = 40;
const CHURN_GAP_MS = 10;

interface HandleStats {
  handles: number;
  minReplicas: number;
  maxReplicas: number;
  updates: number;
}

/** Counts the broadcasts on one deployment's members subject (what each handle receives). */
function broadcastMonitor(nc: NatsConnection, app: string) {
  const m = { messages: 0, bytes: 0, lastBytes: 0, last: new Uint8Array(0) as Uint8Array };
  const sub = nc.subscribe(membersSubject(PREFIX, app, DEPLOYMENT), {
    callback: (_e, msg) => {
      m.messages++;
      m.bytes += msg.data.length;
      m.lastBytes = msg.data.length;
      m.last = msg.data;
    },
  });
  return {
    counts: m,
    reset: () => void (m.messages = m.bytes = 0),
    stop: () => sub.unsubscribe(),
  };
}

const ms = (cpu: CpuByGroup, g: string): number | null => {
  const v = cpu[g];
  return v === null || v === undefined ? null : round(v * 1000, 1);
};

async function stats(nc: NatsConnection): Promise<HandleStats> {
  const m = await nc.request(`${PREFIX}.bench.handles.stats`, new Uint8Array(0), { timeout: 5000 });
  return JSON.parse(new TextDecoder().decode(m.data)) as HandleStats;
}

/** The curve's points and timings. */
interface MembershipConfig {
  replicaSteps: readonly number[];
  /** Steady window, ms. */
  windowMs: number;
  /** Sets per timed burst (even). */
  churn: number;
}

/** One handle count: a handles process, then each replica count in turn (scale-ups), then delete. */
async function measureHandles(
  ctx: SuiteContext,
  cluster: LocalCluster,
  nc: NatsConnection,
  handles: number,
  cfg: MembershipConfig,
): Promise<Row[]> {
  const { replicaSteps, windowMs, churn: CHURN } = cfg;
  const app = `scm-h${handles}`;
  const deploy = (n: number) =>
    cluster.client.deploy({
      applications: [
        echoApplication(app, {
          numReplicas: n,
          heartbeatPeriodS: 1,
          requestRouter: { class: "ConsistentHash", kwargs: {} },
        }),
      ],
    });
  const monitor = broadcastMonitor(nc, app);
  await nc.flush();
  await deploy(replicaSteps[0]!);
  let child: ChildServer | undefined;
  const rows: Row[] = [];
  try {
    child = await startChildServer(
      join(ctx.benchDir, "fixtures/membership-handles.ts"),
      [cluster.address, PREFIX, app, DEPLOYMENT, String(handles)],
      ctx.benchDir,
      120_000,
    );
    const groups = {
      controller: [cluster.pids.controller],
      handles: [child.pid],
      server: cluster.pids.nats === null ? [] : [cluster.pids.nats],
    };
    const allSee = (n: number) =>
      waitUntil(
        async () => {
          const s = await stats(nc);
          return s.minReplicas === n && s.maxReplicas === n;
        },
        { timeoutMs: 60_000, intervalMs: 20, message: `${handles} handles seeing ${n} replicas` },
      );
    await allSee(replicaSteps[0]!);
    const updates = async (): Promise<number> => (await stats(nc)).updates;
    let previous = replicaSteps[0]!;
    for (const replicas of replicaSteps) {
      ctx.log(`${handles} handle(s), ${previous} → ${replicas} replicas`);
      monitor.reset();
      const up = startCpuWindow(groups);
      const t0 = performance.now();
      if (replicas !== previous) await deploy(replicas);
      await allSee(replicas);
      const scaleMs = performance.now() - t0;
      const upCpu = up.stop();
      const upMessages = monitor.counts.messages;
      const upBytes = monitor.counts.bytes;
      // Steady state: only the controller's periodic re-publish (every 2 s) reaches the handles.
      await sleep(500);
      monitor.reset();
      const steady = startCpuWindow(groups);
      await sleep(windowMs);
      const cpu = steady.stop();
      const seconds = windowMs / 1000;
      const msgs = monitor.counts.messages;
      const handlesCpu = cpu["handles"];
      const steadyBytes = monitor.counts.bytes;
      // Bursts the bench publishes as the controller would, to time one handle's share precisely:
      // a warm-up, CHURN (cfg.churn) changed sets (each a rebuild of the set and ring), then CHURN re-publishes
      // of the held version (decoded and dropped) ended by 2 changed sets as a marker.
      const subject = membersSubject(PREFIX, app, DEPLOYMENT);
      const snapshotBytes = monitor.counts.lastBytes;
      let base = decode(monitor.counts.last) as MembershipSnapshot;
      const burst = async (sets: Uint8Array[], changed: number) =>
        (
          await timedBurst({
            nc,
            subject,
            sets,
            gapMs: CHURN_GAP_MS,
            updates,
            expect: changed * handles,
            groups,
          })
        )["handles"] ?? null;
      const next = (n: number): Uint8Array[] => {
        const c = changedSets(base, n);
        base = { ...base, version: c.version };
        return c.sets;
      };
      await burst(next(CHURN), CHURN);
      const churnCpu = await burst(next(CHURN), CHURN);
      const held = encode(base);
      const repubCpu = await burst([...Array<Uint8Array>(CHURN).fill(held), ...next(2)], 2);
      const perChange = churnCpu === null ? null : churnCpu / (CHURN * handles);
      const perRepublish =
        repubCpu === null || perChange === null
          ? null
          : (repubCpu - 2 * handles * perChange) / (CHURN * handles);
      rows.push({
        replicas,
        handles,
        snapshotBytes,
        step: `${previous} → ${replicas}`,
        upBroadcasts: upMessages,
        upBytesDelivered: upBytes * handles,
        upMs: Math.round(scaleMs),
        upControllerMs: ms(upCpu, "controller"),
        upHandlesMs: ms(upCpu, "handles"),
        upServerMs: ms(upCpu, "server"),
        steadyBroadcastsPerS: round(msgs / seconds, 2),
        steadyBytesPerS: Math.round((steadyBytes * handles) / seconds),
        steadyControllerMsPerS:
          cpu["controller"] == null ? null : round((cpu["controller"] * 1000) / seconds, 2),
        steadyHandlesMsPerS: handlesCpu == null ? null : round((handlesCpu * 1000) / seconds, 2),
        steadyServerMsPerS: cpu["server"] == null ? null : round((cpu["server"] * 1000) / seconds, 2),
        handleUsPerBroadcast: perRepublish === null ? null : round(perRepublish * 1e6, 1),
        handleUsPerChange: perChange === null ? null : round(perChange * 1e6, 1),
      });
      previous = replicas;
    }
  } finally {
    await child?.stop();
    monitor.stop();
    await cluster.client.delete(app).catch(() => undefined);
  }
  return rows;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const replicaSteps = ctx.quick ? [2, 64] : [2, 16, 64, 256];
  const handleCounts = ctx.quick ? [1, 10] : [1, 10, 100];
  const windowMs = ctx.quick ? 2100 : 4100;
  const churn = ctx.quick ? 16 : CHURN_FULL;
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-scale-membership-"));
  const cluster = await startLocalCluster({
    stateDir,
    prefix: PREFIX,
    agents: 0,
    natsPort: await freePort(),
    logs: "file",
  });
  const nc = await natsConnect({ servers: cluster.address, noAsyncTraces: true });
  const agent = fakeAgent(nc, PREFIX, "fake-node");
  const rows: Row[] = [];
  try {
    await waitUntil(async () => (await cluster.client.status()).nodes.some((n) => n.nodeId === "fake-node"), {
      timeoutMs: 20_000,
      message: "the fake agent in the controller's status",
    });
    for (const h of handleCounts)
      rows.push(...(await measureHandles(ctx, cluster, nc, h, { replicaSteps, windowMs, churn })));
  } finally {
    agent.stop();
    await nc.close();
    await cluster.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return membershipResult(rows, { replicaSteps, handleCounts, windowMs, churn, churnGapMs: CHURN_GAP_MS });
}

/** Scale suite 3: membership broadcast cost, replicas 2 → 256 × handles 1 → 100. */
export const scaleMembershipSuite: Suite = {
  name: "scale-membership",
  title: "Scale: membership broadcasts",
  question:
    "What do membership broadcasts cost the controller, nats-server and the handles as a deployment grows " +
    "to 256 replicas followed by 100 handles? Target: linear at most: a handle's CPU per broadcast per replica, " +
    "the handles' CPU per handle and the controller's CPU per replica at the largest point ≤ 2× at the next.",
  run,
};
