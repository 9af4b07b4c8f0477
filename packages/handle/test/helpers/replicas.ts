/**
 * Starts real replica processes of a fixture deployment for integration tests and stops them by
 * PID. Replicas run the replica package's built `dist/main.js`, so build before running tests.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "nats";
import { resolveDeploymentOptions, type ReplicaSpec } from "@tsserve/protocol/internal";
import { type DeploymentOptions, type ReplicaInfo } from "@tsserve/protocol";
import { startReplicaProcess } from "@tsserve/replica/internal";
import { waitForReplicaState } from "@tsserve/test-utils";

/** Directory of the fixtures (replicas resolve `importPath` from here). */
export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** Running replicas of one deployment. */
export interface ReplicaGroup extends AsyncDisposable {
  readonly infos: ReplicaInfo[];
  readonly processes: Map<string, ChildProcess>;
  /** Sends `signal` to one replica and waits for it to exit. */
  kill(replicaId: string, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startReplicas}. */
export interface StartReplicasOptions {
  url: string;
  app?: string;
  deployment?: string;
  ids: string[];
  /** Deployment options (maxOngoingRequests…). */
  options?: DeploymentOptions;
  /** `file#export` under fixtures. @default "echo-app.ts#app" */
  importPath?: string;
  prefix?: string;
  /** Stream flow-control overrides for the replicas (ReplicaSpec.streamFlow). */
  streamFlow?: ReplicaSpec["streamFlow"];
}

/** Starts one process per id and waits until each reports RUNNING. */
export async function startReplicas(o: StartReplicasOptions): Promise<ReplicaGroup> {
  const app = o.app ?? "app";
  const deployment = o.deployment ?? "Echo";
  const prefix = o.prefix ?? "tsserve";
  const config = resolveDeploymentOptions({ gracefulShutdownWaitLoopS: 0.05, ...o.options }, deployment);
  const nc: NatsConnection = await connect({ servers: o.url });
  const processes = new Map<string, ChildProcess>();
  const stopOne = async (id: string, signal: NodeJS.Signals): Promise<void> => {
    const p = processes.get(id);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill(signal);
    const backstop = setTimeout(() => p.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(backstop);
  };
  const group: ReplicaGroup = {
    infos: o.ids.map((replicaId) => ({ replicaId, nodeId: "node-1" })),
    processes,
    kill: (id, signal = "SIGKILL") => stopOne(id, signal),
    stop: async () => {
      await Promise.all([...processes.keys()].map((id) => stopOne(id, "SIGKILL")));
    },
    [Symbol.asyncDispose]: () => group.stop(),
  };
  try {
    await Promise.all(
      o.ids.map(async (replicaId) => {
        const ready = waitForReplicaState(nc, {
          prefix,
          app,
          deployment,
          replicaId,
          state: "RUNNING",
          timeoutMs: 20_000,
        });
        processes.set(
          replicaId,
          startReplicaProcess({
            address: o.url,
            prefix,
            app,
            deployment,
            replicaId,
            nodeId: "node-1",
            importPath: o.importPath ?? "echo-app.ts#app",
            cwd: FIXTURES,
            config,
            codeVersion: "test",
            ...(o.streamFlow === undefined ? {} : { streamFlow: o.streamFlow }),
          }),
        );
        await ready;
      }),
    );
  } catch (e) {
    await group.stop();
    throw e;
  } finally {
    await nc.close();
  }
  return group;
}
