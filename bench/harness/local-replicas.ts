import type { ChildProcess } from "node:child_process";
import { connect, type NatsConnection } from "nats";
import {
  decode,
  DEFAULT_PREFIX,
  heartbeatSubject,
  resolveDeploymentOptions,
  subjectPattern,
  VERBS,
  type ReplicaHeartbeat,
} from "@tsserve/protocol/internal";
import { type DeploymentOptions, type ReplicaInfo } from "@tsserve/protocol";
import { startReplicaProcess } from "@tsserve/replica/internal";

/** Options of {@link startLocalReplicas}. */
export interface LocalReplicasOptions {
  /** NATS URL the replicas connect to. */
  address: string;
  app: string;
  /** Deployment name inside the module's application graph. */
  deployment: string;
  /** `path/to/module.ts#export` of the bound application. */
  importPath: string;
  /** Directory the import path is relative to. */
  cwd: string;
  count: number;
  /** Deployment options (maxOngoingRequests, …) merged over the code's. */
  options?: DeploymentOptions;
  /** Replica ids are `${idPrefix}${i}`. @default `${deployment}-r` */
  idPrefix?: string;
  /** @default 30 s: a replica imports its module with tsx, which is slow on a busy 2-core box */
  readyTimeoutMs?: number;
}

/** Replica processes started directly (no controller), READY and routable. */
export interface LocalReplicas {
  readonly replicas: ReplicaInfo[];
  /** OS pids of the replica processes, for CPU accounting. */
  readonly pids: number[];
  /** SIGTERM every replica (they drain) and wait; SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const prefix = DEFAULT_PREFIX;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

/**
 * Starts `count` replica processes with `startReplicaProcess` (the only sanctioned way) and resolves
 * once every one has published its RUNNING heartbeat (READY). Rejects, after stopping the others,
 * if one reports FAILED, exits early, or is not READY in time.
 */
export async function startLocalReplicas(opts: LocalReplicasOptions): Promise<LocalReplicas> {
  const config = resolveDeploymentOptions({
    gracefulShutdownWaitLoopS: 0.2,
    ...opts.options,
    name: opts.deployment,
  });
  const idPrefix = opts.idPrefix ?? `${opts.deployment}-r`;
  const nc: NatsConnection = await connect({ servers: opts.address, noAsyncTraces: true });
  const sub = nc.subscribe(subjectPattern(prefix, VERBS.heartbeat, opts.app, opts.deployment, "*"));
  const children: ChildProcess[] = [];
  const ids = Array.from({ length: opts.count }, (_, i) => `${idPrefix}${i}`);
  const pending = new Set(ids);
  try {
    await nc.flush();
    const ready = new Promise<void>((resolve, reject) => {
      void (async () => {
        for await (const m of sub) {
          const hb = decode(m.data) as ReplicaHeartbeat;
          if (hb.state === "FAILED")
            reject(new Error(`replica ${hb.replicaId} failed to start: ${hb.error ?? "?"}`));
          if (hb.state === "RUNNING") pending.delete(hb.replicaId);
          if (pending.size === 0) return resolve();
        }
      })().catch(reject);
    });
    for (const replicaId of ids) {
      const child = startReplicaProcess(
        {
          address: opts.address,
          prefix,
          app: opts.app,
          deployment: opts.deployment,
          replicaId,
          nodeId: "bench",
          importPath: opts.importPath,
          cwd: opts.cwd,
          config,
          codeVersion: "bench",
        },
        { stdio: ["ignore", "ignore", "inherit"] },
      );
      children.push(child);
      heartbeatSubject(prefix, opts.app, opts.deployment, replicaId); // validates the id early
    }
    const exitedEarly = new Promise<never>((_, reject) => {
      for (const c of children) {
        c.once("exit", (code) =>
          reject(new Error(`replica process ${c.pid} exited with ${code} before READY`)),
        );
      }
    });
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`replicas not READY within ${timeoutMs} ms: ${[...pending].join(", ")}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([ready, exitedEarly, timeout]);
    } finally {
      clearTimeout(timer);
    }
    exitedEarly.catch(() => undefined);
  } catch (e) {
    await Promise.all(children.map(stopChild));
    throw e;
  } finally {
    sub.unsubscribe();
    await nc.close();
  }
  return {
    replicas: ids.map((replicaId) => ({ replicaId, nodeId: "bench" })),
    pids: children.map((c) => c.pid ?? -1),
    stop: async () => {
      await Promise.all(children.map(stopChild));
    },
  };
}
