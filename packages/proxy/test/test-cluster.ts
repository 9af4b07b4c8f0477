import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection, type Subscription } from "nats";
import {
  controllerSubject,
  decode,
  encode,
  errorToWire,
  resolveDeploymentOptions,
  type ControllerReply,
  type MembershipSnapshot,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";
import {
  DeploymentNotFoundError,
  type ApplicationStatusReport,
  type DeploymentOptions,
  type StatusReport,
} from "@tsserve/protocol";
import { startReplicaProcess } from "@tsserve/replica/internal";
import { startNatsServer, waitForReplicaState, type NatsServer } from "@tsserve/test-utils";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const PREFIX = "ptest";

/** One deployment the test cluster runs: real replica processes of a fixture export. */
export interface TestDeployment {
  app: string;
  routePrefix: string | null;
  /** `file.ts#export` under fixtures/. */
  importPath: string;
  deployment: string;
  numReplicas: number;
  options: DeploymentOptions;
}

/**
 * A real nats-server, real replica processes, and a stand-in for the controller: a plain NATS
 * responder answering `ctl.status` (routes, replica states) and `ctl.members` (the RUNNING set),
 * exactly as the controller's API describes. No controller logic, so proxy tests do not depend on it.
 */
export interface TestCluster extends AsyncDisposable {
  server: NatsServer;
  nc: NatsConnection;
  /** Replica ids per `app/deployment`. */
  replicaIds: Map<string, string[]>;
  /** Number of `ctl.status` requests answered so far. */
  statusRequests(): number;
  /** Stops answering `ctl.status` (the controller "goes down"); resolves once the server knows. */
  stopController(): Promise<void>;
  stop(): Promise<void>;
}

function reply<T>(value: T): Uint8Array {
  return encode({ ok: true, value } satisfies ControllerReply<T>);
}

/** Starts nats, the controller stand-in and every replica; resolves when all replicas report RUNNING. */
export async function startTestCluster(deployments: TestDeployment[]): Promise<TestCluster> {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const children: { child: ChildProcess; exited: Promise<void> }[] = [];
  const replicaIds = new Map<string, string[]>();
  const configs = new Map<string, ReturnType<typeof resolveDeploymentOptions>>();
  let n = 0;
  try {
    const ready: Promise<unknown>[] = [];
    for (const d of deployments) {
      const config = resolveDeploymentOptions(
        { gracefulShutdownWaitLoopS: 0.1, heartbeatPeriodS: 0.5, ...d.options, numReplicas: d.numReplicas },
        d.deployment,
      );
      const key = `${d.app}/${d.deployment}`;
      configs.set(key, config);
      const ids: string[] = [];
      for (let i = 0; i < d.numReplicas; i++) {
        const replicaId = `${d.deployment.toLowerCase()}-${process.pid}-${++n}`;
        ids.push(replicaId);
        const spec: ReplicaSpec = {
          address: server.url,
          prefix: PREFIX,
          app: d.app,
          deployment: d.deployment,
          replicaId,
          nodeId: "node-1",
          importPath: d.importPath,
          cwd: FIXTURES,
          config,
          codeVersion: "v1",
        };
        const state = {
          prefix: PREFIX,
          app: d.app,
          deployment: d.deployment,
          replicaId,
          state: "RUNNING" as const,
        };
        ready.push(waitForReplicaState(nc, { ...state, timeoutMs: 20_000 }));
        await nc.flush();
        const child = startReplicaProcess(spec, { stdio: ["ignore", "ignore", "inherit"] });
        children.push({ child, exited: new Promise((r) => child.once("exit", () => r())) });
      }
      replicaIds.set(key, ids);
    }
    await Promise.all(ready);
  } catch (error) {
    for (const c of children) c.child.kill("SIGKILL");
    await nc.close();
    await server.stop();
    throw error;
  }

  const status = (): StatusReport => {
    const apps = new Map<string, ApplicationStatusReport>();
    for (const d of deployments) {
      let a = apps.get(d.app);
      if (a === undefined) {
        a = { name: d.app, routePrefix: d.routePrefix, ingress: d.deployment, deployments: [] };
        apps.set(d.app, a);
      }
      const ids = replicaIds.get(`${d.app}/${d.deployment}`) ?? [];
      a.deployments.push({
        name: d.deployment,
        status: "HEALTHY",
        message: "",
        targetReplicas: d.numReplicas,
        replicas: ids.map((replicaId) => ({
          replicaId,
          nodeId: "node-1",
          state: "RUNNING",
          ongoing: 0,
          startedAt: 0,
          pid: 0,
        })),
      });
    }
    return {
      applications: [...apps.values()],
      nodes: [{ nodeId: "node-1", replicas: children.length, lastSeen: Date.now() }],
    };
  };

  let statusCount = 0;
  const statusSub: Subscription = nc.subscribe(controllerSubject(PREFIX, "status"), {
    callback: (_err, msg) => {
      statusCount++;
      msg.respond(reply(status()));
    },
  });
  nc.subscribe(controllerSubject(PREFIX, "members"), {
    callback: (_err, msg) => {
      const { app, deployment } = decode(msg.data) as { app: string; deployment: string };
      const key = `${app}/${deployment}`;
      const config = configs.get(key);
      if (config === undefined) {
        const error = errorToWire(new DeploymentNotFoundError(`no deployment ${key}`));
        msg.respond(encode({ ok: false, error } satisfies ControllerReply<never>));
        return;
      }
      const snapshot: MembershipSnapshot = {
        app,
        deployment,
        version: Date.now(),
        replicas: (replicaIds.get(key) ?? []).map((replicaId) => ({ replicaId, nodeId: "node-1" })),
        config: {
          maxOngoingRequests: config.maxOngoingRequests,
          maxQueuedRequests: config.maxQueuedRequests,
          requestRouter: config.requestRouter,
        },
      };
      msg.respond(reply(snapshot));
    },
  });
  await nc.flush();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      for (const c of children) {
        if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
      }
      await Promise.all(children.map((c) => c.exited));
      await nc.close();
      await server.stop();
    })();
    return stopped;
  };
  return {
    server,
    nc,
    replicaIds,
    statusRequests: () => statusCount,
    stopController: async () => {
      statusSub.unsubscribe();
      await nc.flush();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
