// Shared by the controller tests: a real nats-server, a local cluster (controller + agents as
// processes), deploy requests for the fixture app, and a traffic loop that counts failed calls.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type Client, type DeploymentHandle } from "@tsserve/handle";
import {
  decode,
  resolveDeploymentOptions,
  type MembershipSnapshot,
  type ReplicaSpec,
  type DeployRequest,
} from "@tsserve/protocol/internal";
import { type DeploymentOptions, type StatusReport, type DeploymentStatusReport } from "@tsserve/protocol";
import { startNatsServer, waitUntil, type NatsServer } from "@tsserve/test-utils";
import { CHECKPOINT_KEY, defaultStateBucket } from "@tsserve/controller/internal";
import { startLocalCluster, type LocalCluster } from "../../src/local-cluster.js";
import { logTails } from "./log-tails.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");
export const PREFIX = "ctltest";

/** Options a test deployment gets unless it overrides them: fast heartbeats, short drains. */
export const FAST: DeploymentOptions = {
  heartbeatPeriodS: 0.25,
  heartbeatTimeoutS: 2,
  gracefulShutdownWaitLoopS: 0.3,
  gracefulShutdownTimeoutS: 5,
};

/** A deploy request for one app of the fixture module (`exportName` = worker | exploding | snoop | models). */
export function deployRequest(
  app: string,
  exportName: "worker" | "exploding" | "snoop" | "models",
  options: DeploymentOptions,
  codeVersion = "v1",
): DeployRequest {
  const name = { worker: "Worker", exploding: "Exploding", snoop: "Snoop", models: "Models" }[exportName];
  return {
    applications: [
      {
        name: app,
        routePrefix: null,
        importPath: `controller-app.ts#${exportName}`,
        cwd: FIXTURES,
        ingress: name,
        deployments: [{ config: resolveDeploymentOptions({ ...FAST, ...options }, name), codeVersion }],
      },
    ],
  };
}

/** A nats-server with JetStream, a local cluster on it and a handle client. */
export interface Harness extends AsyncDisposable {
  nats: NatsServer;
  cluster: LocalCluster;
  client: Client;
}

/** Starts a harness; on a given `nats` server (then stopped with the harness) or a new one. */
export async function startHarness(
  agents = 1,
  controllerArgs: string[] = [],
  server?: NatsServer,
): Promise<Harness> {
  const nats = server ?? (await startNatsServer());
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-ctl-"));
  let cluster: LocalCluster | undefined;
  try {
    cluster = await startLocalCluster({
      address: nats.url,
      prefix: PREFIX,
      stateDir,
      agents,
      logs: process.env["TSSERVE_TEST_LOGS"] === "1" ? "inherit" : "file",
      controllerArgs,
      stopTimeoutMs: 10_000,
    });
    const client = await connect({ address: nats.url, prefix: PREFIX });
    const c = cluster;
    return {
      nats,
      cluster: c,
      client,
      [Symbol.asyncDispose]: async () => {
        await client.close();
        await c.stop();
        await nats.stop();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await cluster?.stop();
    await nats.stop();
    throw e;
  }
}

/** The status of one deployment (undefined when not listed). */
export function deploymentStatus(
  s: StatusReport,
  app: string,
  dep: string,
): DeploymentStatusReport | undefined {
  return s.applications.find((a) => a.name === app)?.deployments.find((d) => d.name === dep);
}

/** Waits until the deployment has exactly `n` RUNNING replicas and nothing else; returns their ids. */
export async function waitForRunning(
  cluster: LocalCluster,
  app: string,
  dep: string,
  n: number,
  timeoutMs = 20_000,
): Promise<DeploymentStatusReport> {
  let last: DeploymentStatusReport | undefined;
  return waitUntil(
    async () => {
      const d = deploymentStatus(await cluster.client.status(), app, dep);
      last = d;
      if (!d) return undefined;
      const running = d.replicas.filter((r) => r.state === "RUNNING");
      return running.length === n && d.replicas.length === n && d.status === "HEALTHY" ? d : undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      // On timeout: what the deployment looked like last, and the controller's and agents' logs.
      message: () =>
        `${app}/${dep} with exactly ${n} RUNNING replicas (last: ${
          last
            ? `${last.status}, ${last.replicas.map((r) => `${r.replicaId} ${r.state}`).join(", ")}`
            : "not listed"
        })\n${logTails(cluster.stateDir, ["controller", "agent"])}`,
    },
  );
}

/**
 * Waits until the controller's KV checkpoint lists `n` replicas of the deployment, all RUNNING. A
 * test that kills the controller right after its replicas became RUNNING may otherwise leave a
 * checkpoint that still says STARTING (it is written asynchronously), and the next controller
 * treats such a replica by the startup rules, not the heartbeat rules.
 */
export async function waitForCheckpointRunning(
  client: Client,
  app: string,
  dep: string,
  n: number,
): Promise<void> {
  const kv = await client.nc.jetstream().views.kv(defaultStateBucket(PREFIX), { bindOnly: true });
  await waitUntil(
    async () => {
      const e = await kv.get(CHECKPOINT_KEY);
      if (!e || e.value.length === 0) return false;
      const cp = JSON.parse(new TextDecoder().decode(e.value)) as {
        replicas: { app: string; deployment: string; state: string }[];
      };
      const mine = cp.replicas.filter((r) => r.app === app && r.deployment === dep);
      return mine.length === n && mine.every((r) => r.state === "RUNNING");
    },
    {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: `a checkpoint with ${n} RUNNING replicas of ${app}/${dep}`,
    },
  );
}

/** Counts of a traffic loop. */
export interface TrafficResult {
  ok: number;
  failed: number;
  errors: string[];
  /** replica ids that answered */
  replicas: Set<string>;
}

/**
 * Sends calls from `concurrency` loops until stopped; every call must succeed. Bounded: each loop
 * stops after `maxCalls` calls or when stopped.
 */
export function startTraffic(
  handle: DeploymentHandle<any>,
  opts: { concurrency?: number; method?: string; arg?: unknown; pauseMs?: number; maxCalls?: number } = {},
): { stop: () => Promise<TrafficResult>; result: TrafficResult } {
  const result: TrafficResult = { ok: 0, failed: 0, errors: [], replicas: new Set() };
  let running = true;
  const h = opts.method
    ? handle.options({ method: opts.method, timeoutMs: 10_000 })
    : handle.options({ timeoutMs: 10_000 });
  const loop = async (): Promise<void> => {
    for (let i = 0; running && i < (opts.maxCalls ?? 100_000); i++) {
      try {
        const v = (await h.remote(opts.arg ?? i)) as { replica?: string } | string;
        result.ok++;
        result.replicas.add(typeof v === "string" ? v : String(v.replica));
      } catch (e) {
        result.failed++;
        if (result.errors.length < 10) result.errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 4 }, () => loop());
  return {
    result,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

/** Counts agent start requests (what the controller asked for), per deployment, by listening on NATS. */
export function countAgentStarts(client: Client): { counts: Map<string, number>; stop: () => void } {
  const counts = new Map<string, number>();
  const sub = client.nc.subscribe(`${PREFIX}.agent.*.start`, {
    callback: (_err, msg) => {
      const spec = decode(msg.data) as ReplicaSpec;
      counts.set(spec.deployment, (counts.get(spec.deployment) ?? 0) + 1);
    },
  });
  return { counts, stop: () => sub.unsubscribe() };
}

/** Records every membership snapshot broadcast for one deployment. */
export function watchMembership(
  client: Client,
  app: string,
  dep: string,
): { snapshots: MembershipSnapshot[]; stop: () => void } {
  const snapshots: MembershipSnapshot[] = [];
  const sub = client.nc.subscribe(`${PREFIX}.members.${app}.${dep}`, {
    callback: (_err, msg) => snapshots.push(decode(msg.data) as MembershipSnapshot),
  });
  return { snapshots, stop: () => sub.unsubscribe() };
}
