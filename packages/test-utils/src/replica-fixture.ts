/**
 * The one way tests start replica processes: real `@tsserve/replica` processes (its built
 * `dist/main.js`, through `startReplicaProcess`), waited for on their heartbeats and stopped by PID.
 * Every fixture is `AsyncDisposable`, so a test writes
 * `await using replica = await startReplica({ url, cwd, importPath })`.
 */
import { connect, type NatsConnection } from "nats";
import type { DeploymentOptions, ReplicaInfo } from "@tsserve/protocol";
import {
  probeSubject,
  requestSubject,
  resolveDeploymentOptions,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";
import { startReplicaProcess } from "@tsserve/replica/internal";
import { processFixture, type ProcessFixture } from "./process-fixture.js";
import { waitForReplicaState } from "./replica-state.js";

/** What a replica runs and where: the fields of its ReplicaSpec, with test defaults. */
export interface ReplicaSpecOptions {
  /** NATS URL the replica connects to. */
  url: string;
  /** Folder `importPath` resolves from (the test's fixtures folder). */
  cwd: string;
  /** `file.ts#export` under `cwd`. */
  importPath: string;
  /** Subject prefix. @default "tsserve" */
  prefix?: string;
  /** @default "app" */
  app?: string;
  /** @default "Echo" */
  deployment?: string;
  /** @default a unique id per process and call */
  replicaId?: string;
  /** @default "node-1" */
  nodeId?: string;
  /**
   * Deployment options, over test defaults that keep tests quick (`heartbeatPeriodS: 0.5`,
   * `gracefulShutdownWaitLoopS: 0.1`).
   */
  options?: DeploymentOptions;
  /** Stream flow-control overrides (ReplicaSpec.streamFlow). */
  streamFlow?: ReplicaSpec["streamFlow"];
  /** @default "v1" */
  codeVersion?: string;
}

let counter = 0;

/** A ReplicaSpec as an agent would send it, from test-friendly options. */
export function replicaSpec(o: ReplicaSpecOptions): ReplicaSpec {
  const deployment = o.deployment ?? "Echo";
  return {
    address: o.url,
    prefix: o.prefix ?? "tsserve",
    app: o.app ?? "app",
    deployment,
    replicaId: o.replicaId ?? `r${process.pid}-${++counter}`,
    nodeId: o.nodeId ?? "node-1",
    importPath: o.importPath,
    cwd: o.cwd,
    config: resolveDeploymentOptions(
      { heartbeatPeriodS: 0.5, gracefulShutdownWaitLoopS: 0.1, ...o.options },
      deployment,
    ),
    codeVersion: o.codeVersion ?? "v1",
    ...(o.streamFlow === undefined ? {} : { streamFlow: o.streamFlow }),
  };
}

/** How {@link startReplica} waits and where the child's output goes. */
export interface StartReplicaOptions {
  /** Connection to watch heartbeats on; the fixture opens (and closes) its own when omitted. */
  nc?: NatsConnection;
  /** The heartbeat state to wait for; `false` returns at once after spawning. @default "RUNNING" */
  waitFor?: "RUNNING" | "FAILED" | false;
  /** @default 20000 */
  timeoutMs?: number;
  /** Child stdout: shown in the test output or dropped. stderr is always kept (`stderr()`). @default "inherit" */
  stdout?: "inherit" | "ignore";
}

/** One running replica process (a {@link ProcessFixture} with what it serves). */
export interface ReplicaFixture extends ProcessFixture {
  readonly spec: ReplicaSpec;
  readonly info: ReplicaInfo;
  /** Its `req.…` and `probe.…` subjects. */
  readonly requestSubject: string;
  readonly probeSubject: string;
}

/** Spawns a replica (heartbeat subscription first) and waits for `waitFor`; kills it on failure. */
export async function startReplica(
  spec: ReplicaSpec | ReplicaSpecOptions,
  o: StartReplicaOptions = {},
): Promise<ReplicaFixture> {
  const s = "config" in spec ? spec : replicaSpec(spec);
  const nc = o.nc ?? (await connect({ servers: s.address, noAsyncTraces: true }));
  const waitFor = o.waitFor ?? "RUNNING";
  try {
    const ready =
      waitFor === false
        ? Promise.resolve()
        : waitForReplicaState(nc, { ...s, state: waitFor, timeoutMs: o.timeoutMs ?? 20_000 });
    await nc.flush();
    const proc = processFixture(startReplicaProcess(s, { stdio: ["ignore", o.stdout ?? "inherit", "pipe"] }));
    try {
      await ready;
    } catch (e) {
      await proc.kill();
      throw new Error(`${(e as Error).message}\nreplica stderr:\n${proc.stderr()}`);
    }
    return {
      ...proc,
      spec: s,
      info: { replicaId: s.replicaId, nodeId: s.nodeId },
      requestSubject: requestSubject(s.prefix, s.app, s.deployment, s.replicaId),
      probeSubject: probeSubject(s.prefix, s.app, s.deployment, s.replicaId),
    };
  } finally {
    if (o.nc === undefined) await nc.close();
  }
}

/** Several replicas of one deployment. */
export interface ReplicaGroup extends AsyncDisposable {
  readonly replicas: ReplicaFixture[];
  /** `{ replicaId, nodeId }` of each, for static membership. */
  readonly infos: ReplicaInfo[];
  /** The replica with this id (throws if there is none). */
  get(replicaId: string): ReplicaFixture;
  /** Sends `signal` to one replica and waits for its exit. @default "SIGKILL" */
  kill(replicaId: string, signal?: NodeJS.Signals): Promise<void>;
  /** Kills every replica (SIGKILL) and waits for the exits. */
  stop(): Promise<void>;
}

/** Starts one replica per id in parallel (same spec otherwise); stops them all if one fails. */
export async function startReplicas(
  spec: Omit<ReplicaSpecOptions, "replicaId"> & { ids: string[] },
  o: Omit<StartReplicaOptions, "waitFor"> = {},
): Promise<ReplicaGroup> {
  const nc = o.nc ?? (await connect({ servers: spec.url, noAsyncTraces: true }));
  try {
    const started = await Promise.allSettled(
      spec.ids.map((replicaId) => startReplica({ ...spec, replicaId }, { ...o, nc })),
    );
    const replicas = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = started.find((r) => r.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(replicas.map((r) => r.kill()));
      throw failed.reason;
    }
    const get = (id: string): ReplicaFixture => {
      const r = replicas.find((x) => x.spec.replicaId === id);
      if (r === undefined) throw new Error(`no replica ${id} in this group`);
      return r;
    };
    const stop = async (): Promise<void> => {
      await Promise.all(replicas.map((r) => r.kill()));
    };
    return {
      replicas,
      infos: replicas.map((r) => r.info),
      get,
      kill: (id, signal) => get(id).kill(signal),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } finally {
    if (o.nc === undefined) await nc.close();
  }
}
