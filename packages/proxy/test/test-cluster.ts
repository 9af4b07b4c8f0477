import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection, Subscription } from "nats";
import {
  controllerSubject,
  decode,
  encode,
  errorToWire,
  resolveDeploymentOptions,
  type ControllerReply,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import {
  DeploymentNotFoundError,
  type ApplicationStatusReport,
  type DeploymentOptions,
  type StatusReport,
} from "@tsserve/protocol";
import { startNats, startReplicas, type NatsServer, type ReplicaGroup } from "@tsserve/test-utils";

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
  /** Answers `ctl.status` again after {@link stopController}; resolves once the server knows. */
  startController(): Promise<void>;
  /** Changes an application's route prefix in the status the stand-in reports (null: no route). */
  setRoutePrefix(app: string, routePrefix: string | null): void;
  stop(): Promise<void>;
}

function reply<T>(value: T): Uint8Array {
  return encode({ ok: true, value } satisfies ControllerReply<T>);
}

/** Starts nats, the controller stand-in and every replica; resolves when all replicas report RUNNING. */
export async function startTestCluster(deployments: TestDeployment[]): Promise<TestCluster> {
  const nats = await startNats({ jetstream: false });
  const nc = nats.nc;
  const groups: ReplicaGroup[] = [];
  const replicaIds = new Map<string, string[]>();
  const configs = new Map<string, ReturnType<typeof resolveDeploymentOptions>>();
  let n = 0;
  try {
    const started: Promise<ReplicaGroup>[] = [];
    for (const d of deployments) {
      const options = { ...d.options, numReplicas: d.numReplicas };
      const key = `${d.app}/${d.deployment}`;
      configs.set(key, resolveDeploymentOptions(options, d.deployment));
      const ids = Array.from(
        { length: d.numReplicas },
        () => `${d.deployment.toLowerCase()}-${process.pid}-${++n}`,
      );
      replicaIds.set(key, ids);
      const spec = { url: nats.url, cwd: FIXTURES, prefix: PREFIX, app: d.app, deployment: d.deployment };
      started.push(
        startReplicas({ ...spec, importPath: d.importPath, options, ids }, { nc, stdout: "ignore" }),
      );
    }
    const settled = await Promise.allSettled(started);
    for (const r of settled) if (r.status === "fulfilled") groups.push(r.value);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  } catch (error) {
    await Promise.all(groups.map((g) => g.stop()));
    await nats.stop();
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
      nodes: [{ nodeId: "node-1", replicas: n, lastSeen: Date.now() }],
    };
  };

  let statusCount = 0;
  const answerStatus = (): Subscription =>
    nc.subscribe(controllerSubject(PREFIX, "status"), {
      callback: (_err, msg) => {
        statusCount++;
        msg.respond(reply(status()));
      },
    });
  let statusSub = answerStatus();
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
          // As the controller's membership publisher says it: handles rank replicas by free model slots.
          ...(config.multiplexed ? { maxModelsPerReplica: config.multiplexed.maxModelsPerReplica } : {}),
        },
      };
      msg.respond(reply(snapshot));
    },
  });
  await nc.flush();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(groups.map((g) => g.stop()));
      await nats.stop();
    })();
    return stopped;
  };
  return {
    server: nats.server,
    nc,
    replicaIds,
    statusRequests: () => statusCount,
    stopController: async () => {
      statusSub.unsubscribe();
      await nc.flush();
    },
    startController: async () => {
      if (statusSub.isClosed()) statusSub = answerStatus();
      await nc.flush();
    },
    setRoutePrefix: (app, routePrefix) => {
      for (const d of deployments) if (d.app === app) d.routePrefix = routePrefix;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
