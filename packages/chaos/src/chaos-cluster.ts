import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { agentEntryPath, spawnNodeProcess, type ManagedProcess } from "@tsserve/cluster/internal";
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "@tsserve/cluster";
import { connect, type Client, type DeploymentHandle } from "@tsserve/handle";
import {
  decode,
  resolveDeploymentOptions,
  type AgentHeartbeat,
  type ApplicationSpec,
} from "@tsserve/protocol/internal";
import { type DeploymentOptions, type DeploymentStatusReport } from "@tsserve/protocol";
import { waitUntil } from "@tsserve/test-utils";
import { pidAlive } from "./faults.js";

/** Folder of the Target fixture deployment (`test/fixtures/target-app.ts`). */
export const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
/** Name of the fixture deployment. */
export const TARGET = "Target";

/**
 * Deployment options that keep fault recovery fast: quick heartbeats and timeouts, short drains,
 * and the session-sticky router (so affinity can be checked after the faults).
 */
export const CHAOS_OPTIONS: DeploymentOptions = {
  numReplicas: 3,
  maxOngoingRequests: 16,
  heartbeatPeriodS: 0.25,
  heartbeatTimeoutS: 2,
  gracefulShutdownWaitLoopS: 0.3,
  gracefulShutdownTimeoutS: 3,
  requestRouter: { class: "ConsistentHash", kwargs: { numVirtualNodes: 100, numFallbackReplicas: 2 } },
};

/** The Target fixture as application `name`. */
export function targetApplication(name: string, options: DeploymentOptions = {}): ApplicationSpec {
  return {
    name,
    routePrefix: null,
    importPath: "target-app.ts#app",
    cwd: FIXTURES,
    ingress: TARGET,
    deployments: [
      {
        config: resolveDeploymentOptions({ ...CHAOS_OPTIONS, ...options, name: TARGET }, TARGET),
        codeVersion: "v1",
      },
    ],
  };
}

/** A local cluster (controller + agents as processes) with a handle client, on given NATS urls. */
export interface ChaosCluster extends AsyncDisposable {
  readonly cluster: LocalCluster;
  readonly client: Client;
  readonly stateDir: string;
  /** Agents started beside the local cluster's own (`extraAgents`), each on its own address. */
  readonly extraAgents: readonly ManagedProcess[];
  /** Pids of every agent: the local cluster's and the extra ones. */
  agentPids(): number[];
  /**
   * SIGKILLs extra agent `index` and starts a new process with the same node id and address, as a
   * supervisor (systemd, Kubernetes) would. Resolves once the new process is spawned.
   */
  respawnAgent(index: number): Promise<void>;
  /** A handle to the Target deployment of `app`. */
  handle(app: string): DeploymentHandle<unknown>;
  /** The last lines of every process log in the state dir (for failure messages). */
  logs(lines?: number): string;
  /** Lines of every process log (controller, agents, and replicas via their agent) matching `re`. */
  grepLogs(re: RegExp): string[];
  stop(): Promise<void>;
}

/** Options of {@link startChaosCluster}. */
export interface ChaosClusterOptions extends Omit<LocalClusterOptions, "stateDir" | "logs"> {
  /** Address the handle client uses. @default options.address */
  clientAddress?: string;
  /**
   * Agent processes to start beside the cluster's own, each connected to its own NATS address (so
   * agents and their replicas sit on different servers of a NATS cluster). @default []
   */
  extraAgents?: { nodeId: string; address: string }[];
}

/** Starts a local cluster with file logs in a temp state dir, plus a handle client. */
export async function startChaosCluster(options: ChaosClusterOptions): Promise<ChaosCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-chaos-"));
  const { clientAddress, extraAgents = [], ...rest } = options;
  const logMode = process.env["TSSERVE_TEST_LOGS"] === "1" ? "inherit" : "file";
  const cluster = await startLocalCluster({
    stopTimeoutMs: 10_000,
    ...rest,
    stateDir,
    logs: logMode,
  });
  let client: Client;
  const agents: ManagedProcess[] = [];
  const spawnAgent = (a: { nodeId: string; address: string }): ManagedProcess =>
    spawnNodeProcess({
      name: `agent-${a.nodeId}`,
      entry: agentEntryPath(),
      args: ["--address", a.address, "--prefix", cluster.prefix, "--node-id", a.nodeId],
      env: { ...rest.env },
      logs: logMode,
      logDir: join(stateDir, "logs"),
      exitWithParent: true,
    });
  try {
    for (const a of extraAgents) agents.push(spawnAgent(a));
    await waitUntil(
      async () => {
        const known = new Set((await cluster.client.status()).nodes.map((n) => n.nodeId));
        return extraAgents.every((a) => known.has(a.nodeId));
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "extra agents registered with the controller" },
    );
    client = await connect({
      address: clientAddress ?? cluster.address,
      prefix: cluster.prefix,
      // The chaos tests restart NATS servers: a handle must keep reconnecting, not give up.
      natsOptions: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
    });
  } catch (e) {
    await Promise.all(agents.map((a) => a.kill()));
    await cluster.stop();
    if (process.env["TSSERVE_KEEP_LOGS"] !== "1") rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
  const logs = (lines = 30): string => {
    const dir = join(stateDir, "logs");
    let out = "";
    try {
      for (const f of readdirSync(dir)) {
        const tail = readFileSync(join(dir, f), "utf8").split("\n").slice(-lines).join("\n");
        out += `--- ${f} ---\n${tail}\n`;
      }
    } catch {
      // no log dir (logs inherited)
    }
    return out;
  };
  const grepLogs = (re: RegExp): string[] => {
    const dir = join(stateDir, "logs");
    try {
      // Component logs only: `logs/replicas/` holds per-replica files (their stderr also reaches
      // the agent's log, which is read here).
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .flatMap((f) =>
          readFileSync(join(dir, f), "utf8")
            .split("\n")
            .filter((l) => re.test(l)),
        );
    } catch {
      return [];
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await client.close();
      await cluster.stop();
      // The controller's shutdown stops every agent it knows; stop leftovers by pid.
      await Promise.all(agents.map((a) => a.stop(5000, 3000)));
      if (process.env["TSSERVE_KEEP_LOGS"] === "1") console.error(`chaos cluster logs kept in ${stateDir}`);
      else rmSync(stateDir, { recursive: true, force: true });
    })());
  return {
    cluster,
    client,
    stateDir,
    extraAgents: agents,
    agentPids: () => [...cluster.pids.agents, ...agents.map((a) => a.pid)],
    respawnAgent: async (i) => {
      await agents[i]?.kill();
      agents[i] = spawnAgent(extraAgents[i]!);
    },
    handle: (app) => client.getDeploymentHandle<unknown>(TARGET, { app }),
    logs,
    grepLogs,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The status of the Target deployment of `app` (undefined while unknown). */
export async function targetStatus(
  cluster: LocalCluster,
  app: string,
  deployment = TARGET,
): Promise<DeploymentStatusReport | undefined> {
  const s = await cluster.client.status();
  return s.applications.find((a) => a.name === app)?.deployments.find((d) => d.name === deployment);
}

/**
 * Waits until the deployment has converged: HEALTHY, exactly `n` replicas all RUNNING with live
 * pids, the same set in the membership the controller serves, and no agent running any other
 * replica of it (no orphans left behind by faults). Returns the RUNNING replica ids.
 * `deployment` defaults to the Target fixture.
 */
export async function waitConverged(
  cc: Pick<ChaosCluster, "cluster" | "client" | "agentPids">,
  app: string,
  n: number,
  timeoutMs = 30_000,
  deployment = TARGET,
): Promise<string[]> {
  const { cluster } = cc;
  const agentReplicas = new Map<string, AgentHeartbeat>();
  const sub = cc.client.nc.subscribe(`${cluster.prefix}.agent.*.hb`, {
    callback: (_e, m) => {
      try {
        const hb = decode(m.data) as AgentHeartbeat;
        agentReplicas.set(hb.nodeId, hb);
      } catch {
        // not ours to judge here
      }
    },
  });
  // What the last check saw, so a timeout says which condition held it back.
  let last = "no status yet";
  try {
    return await waitUntil(
      async () => {
        const d = await targetStatus(cluster, app, deployment);
        if (!d) {
          last = "no deployment status";
          return undefined;
        }
        const states = d.replicas.map(
          (r) => `${r.replicaId}:${r.state}${pidAlive(r.pid) ? "" : "(dead pid)"}`,
        );
        last = `status ${d.status}, replicas [${states.join(", ")}]`;
        if (d.status !== "HEALTHY" || d.replicas.length !== n) return undefined;
        if (!d.replicas.every((r) => r.state === "RUNNING" && pidAlive(r.pid))) return undefined;
        const ids = d.replicas.map((r) => r.replicaId).sort();
        const members = (await cluster.client.members(app, deployment)).replicas
          .map((r) => r.replicaId)
          .sort();
        if (members.join() !== ids.join()) {
          last += `; members [${members.join(", ")}]`;
          return undefined;
        }
        const live = new Set(cc.agentPids().filter(pidAlive));
        const onAgents = [...agentReplicas.values()]
          .filter((hb) => live.has(hb.pid))
          .flatMap((hb) => hb.replicas.filter((r) => r.app === app).map((r) => r.replicaId))
          .sort();
        if (onAgents.join() === ids.join()) return ids;
        last += `; on live agents [${onAgents.join(", ")}]`;
        return undefined;
      },
      {
        timeoutMs,
        intervalMs: 250,
        message: () => `${app}/${deployment} converged to ${n} RUNNING replicas (last seen: ${last})`,
      },
    );
  } finally {
    sub.unsubscribe();
  }
}
