import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { connect, type Client, type DeploymentHandle } from "@tsserve/handle";
import { resolveDeploymentOptions, type ApplicationSpec } from "@tsserve/protocol/internal";
import { freePort, sleep } from "@tsserve/test-utils";
import type { SessionSpill } from "@tsserve/protocol";
import type { MapCounter } from "../fixtures/session-apps.js";

/** The Counter deployment of bench/fixtures/session-apps.ts. */
export const COUNTER = "Counter";

/** Where a session's state lives: the class's own Map (no `sessionState`), or getSessionState. */
export type StateMode = "none" | "memory" | "durable";

/** A local cluster (controller + one agent, embedded nats-server with JetStream) for the suite. */
export interface SessionBenchCluster extends AsyncDisposable {
  readonly cluster: LocalCluster;
  readonly client: Client;
  /** Deploys `app` with `replicas` Counter replicas at the defaults; resolves once all are routable. */
  deploy(app: string, mode: StateMode, replicas: number, codeVersion?: string): Promise<void>;
  /** Resolves once `app` has exactly `n` RUNNING replicas of `codeVersion` and they are its membership. */
  waitSettled(app: string, n: number, codeVersion: string, timeoutMs?: number): Promise<void>;
  handle(app: string): DeploymentHandle<MapCounter>;
  /** OS pids of the RUNNING replicas of `apps`. */
  replicaPids(apps: readonly string[]): Promise<number[]>;
  stop(): Promise<void>;
}

/** The Counter application at the defaults (maxOngoingRequests 5, ConsistentHash). */
export function counterSpec(
  benchDir: string,
  app: string,
  mode: StateMode,
  replicas: number,
  codeVersion = "b1",
  spill: SessionSpill = "wait",
): ApplicationSpec {
  const config = resolveDeploymentOptions({
    name: COUNTER,
    numReplicas: replicas,
    requestRouter: { class: "ConsistentHash", kwargs: {} },
    gracefulShutdownWaitLoopS: 0.3,
    ...(mode === "none" ? {} : { sessionState: { mode, spill } }),
  });
  return {
    name: app,
    routePrefix: null,
    importPath: `fixtures/session-apps.ts#${mode === "none" ? "mapCounter" : "stateCounter"}`,
    cwd: benchDir,
    ingress: COUNTER,
    deployments: [{ config, codeVersion }],
  };
}

/** Starts the cluster and a handle client. */
export async function startSessionBenchCluster(benchDir: string): Promise<SessionBenchCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-bench-session-"));
  const cluster = await startLocalCluster({
    stateDir,
    natsPort: await freePort(),
    logs: "file",
    agents: 1,
    clientTimeoutMs: 15_000,
  });
  const client = await connect({ address: cluster.address, prefix: cluster.prefix });
  const cc = cluster.client;
  const waitSettled = async (
    app: string,
    n: number,
    codeVersion: string,
    timeoutMs = 90_000,
  ): Promise<void> => {
    const t0 = Date.now();
    for (;;) {
      const s = await cc.status();
      const d = s.applications.find((a) => a.name === app)?.deployments[0];
      const running = d?.replicas.filter((r) => r.state === "RUNNING") ?? [];
      const members = (await cc.members(app, COUNTER).catch(() => ({ replicas: [] }))).replicas;
      if (
        d?.replicas.length === n &&
        running.length === n &&
        running.every((r) => r.codeVersion === codeVersion) &&
        members.length === n
      )
        return;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${app}: ${n} RUNNING ${codeVersion} replicas not settled`);
      await sleep(100);
    }
  };
  const stop = async (): Promise<void> => {
    await client.close();
    await cluster.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  return {
    cluster,
    client,
    deploy: async (app, mode, replicas, codeVersion = "b1") => {
      await cc.deploy({ applications: [counterSpec(benchDir, app, mode, replicas, codeVersion)] });
      await waitSettled(app, replicas, codeVersion);
    },
    waitSettled,
    handle: (app) => client.getDeploymentHandle<MapCounter>(COUNTER, { app }),
    replicaPids: async (apps) => {
      const s = await cc.status();
      return s.applications
        .filter((a) => apps.includes(a.name))
        .flatMap((a) => a.deployments.flatMap((d) => d.replicas))
        .filter((r) => r.state === "RUNNING" && r.pid > 0)
        .map((r) => r.pid);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
