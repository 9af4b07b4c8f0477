import type { NatsConnection, Subscription } from "nats";
import { ConfigError } from "@tsserve/protocol";
import {
  connectNats,
  creditPattern,
  probeSubject,
  requestSubject,
  WriteCoalescer,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";
import { loadApplicationGraph } from "./application-graph.js";
import { handleSource, resolveArgs, type HandleSource } from "./composition.js";
import { setReplicaContext } from "./context.js";
import { startHealthChecks } from "./health-check.js";
import { Heartbeats, type HeartbeatState } from "./heartbeat.js";
import { INIT_HOOK, MethodTable } from "./method-table.js";
import { RequestServer, type LogLine } from "./request-server.js";
import { StreamCredits } from "./stream-credits.js";
import { serveMetrics, setProcessLabels } from "@tsserve/protocol/internal";
import { ReplicaMetrics } from "./replica-metrics.js";
import { RequestHooks } from "./request-hooks.js";
import { attachModels } from "./multiplex/attach-models.js";

/** A replica that reported READY; `drain()` runs the SIGTERM sequence. */
export interface RunningReplica {
  readonly server: RequestServer;
  readonly connection: NatsConnection;
  /** The state its heartbeats report right now. */
  readonly state: () => HeartbeatState;
  /**
   * DRAINING now; keep serving `gracefulShutdownWaitLoopMs` so routers see it leave; unsubscribe
   * (late senders get no-responders and reroute); wait for ongoing requests (at most until
   * `gracefulShutdownTimeoutMs` after the signal); STOPPED; close. Idempotent.
   */
  drain(): Promise<void>;
}

/** Thrown by `runReplica` after it has reported FAILED (import or constructor failure). */
export class ReplicaStartError extends Error {
  override name = "ReplicaStartError";
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return `${e.name}: ${e.message || (typeof code === "string" ? code : "(no message)")}`;
}

/** Imports the application, finds this replica's deployment and constructs it (awaiting `initialize()`). */
async function construct(spec: ReplicaSpec, handles: HandleSource): Promise<object> {
  const graph = await loadApplicationGraph(spec.importPath, spec.cwd);
  const node = graph.deployments.get(spec.deployment);
  if (node === undefined) {
    throw new ConfigError(
      `deployment "${spec.deployment}" is not in the application graph of ${spec.importPath}; ` +
        `it has: ${[...graph.deployments.keys()].join(", ")}`,
    );
  }
  const args = await resolveArgs(node.args, handles);
  const instance = new node.deployment.cls(...args) as Record<string, unknown>;
  // Constructors cannot be async; an `async initialize()` runs before READY instead.
  const init = instance[INIT_HOOK];
  if (typeof init === "function") await (init as () => unknown).call(instance);
  return instance;
}

/**
 * Runs the replica lifecycle of internals.md "Replica processes" up to READY: connect, import,
 * construct, subscribe, flush, heartbeat RUNNING, periodic heartbeats. On an import or
 * constructor failure it reports FAILED (with the error), closes and throws ReplicaStartError.
 */
export async function runReplica(
  spec: ReplicaSpec,
  log: LogLine,
  shouldServe: () => boolean = () => true,
): Promise<RunningReplica> {
  const nc = await connectNats({ address: spec.address, name: `replica:${spec.replicaId}` });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect") log(`NATS ${s.type} ${String(s.data)}`);
    }
  })();
  const hb = new Heartbeats(nc, spec, (e) => log(`heartbeat not sent: ${errorText(e)}`));
  setProcessLabels("replica", spec.replicaId);
  setReplicaContext({
    appName: spec.app,
    deploymentName: spec.deployment,
    replicaId: spec.replicaId,
    nodeId: spec.nodeId,
  });

  const handles = handleSource(nc, spec.prefix, spec.app);
  let instance: object;
  try {
    instance = await construct(spec, handles);
  } catch (e) {
    hb.report("FAILED", errorText(e));
    await nc.flush().catch(() => undefined);
    await nc.close();
    throw new ReplicaStartError(
      `replica ${spec.replicaId} of ${spec.app}/${spec.deployment} failed to start`,
      {
        cause: e,
      },
    );
  }

  // Fenced while constructing (e.g. its agent died): it must never report RUNNING.
  if (!shouldServe()) {
    await nc.close();
    throw new ReplicaStartError(`replica ${spec.replicaId} was fenced before it became READY`);
  }
  const credits = new StreamCredits({
    prefix: spec.prefix,
    app: spec.app,
    deployment: spec.deployment,
    replicaId: spec.replicaId,
    ...spec.streamFlow,
  });
  const server = new RequestServer(
    instance,
    new MethodTable(instance),
    spec.config.maxOngoingRequests,
    spec.deployment,
    log,
    credits,
  );
  server.hooks = new RequestHooks(spec, new ReplicaMetrics(spec));
  server.replies.writes = new WriteCoalescer(nc);
  serveMetrics(nc, spec.prefix);
  if (spec.config.multiplexed !== undefined) attachModels(server, hb, spec, log);
  hb.ongoing = () => server.ongoing;
  hb.rejectedMessages = () => server.rejectedMessages + credits.rejectedMessages;
  const reqSub = nc.subscribe(requestSubject(spec.prefix, spec.app, spec.deployment, spec.replicaId), {
    callback: server.onRequest,
  });
  const probeSub = nc.subscribe(probeSubject(spec.prefix, spec.app, spec.deployment, spec.replicaId), {
    callback: server.onProbe,
  });
  const creditSub = nc.subscribe(creditPattern(spec.prefix, spec.app, spec.deployment, spec.replicaId), {
    callback: credits.onCredit,
  });
  await nc.flush();
  hb.report("RUNNING");
  hb.start();
  const stopHealthChecks = startHealthChecks(
    instance,
    hb,
    { periodMs: spec.config.healthCheckPeriodMs, timeoutMs: spec.config.healthCheckTimeoutMs },
    log,
  );

  let draining: Promise<void> | undefined;
  const running: RunningReplica = {
    server,
    connection: nc,
    state: () => hb.state,
    drain: () =>
      (draining ??=
        (stopHealthChecks(),
        drainReplica(spec, nc, server, handles, hb, { reqSub, probeSub, creditSub }, log))),
  };
  return running;
}

/**
 * Resolves true when `work` settles before `ms` pass, false otherwise (the work keeps running).
 * A rejection counts as settled: during shutdown there is nothing left to retry.
 */
async function within(work: Promise<unknown>, ms: number, log: LogLine): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, ms));
  });
  try {
    const settled = work.then(
      () => true,
      (e: unknown) => {
        log(`shutdown step failed: ${errorText(e)}`);
        return true;
      },
    );
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function drainReplica(
  spec: ReplicaSpec,
  nc: NatsConnection,
  server: RequestServer,
  handles: HandleSource,
  hb: Heartbeats,
  subs: { reqSub: Subscription; probeSub: Subscription; creditSub: Subscription },
  log: LogLine,
): Promise<void> {
  const { gracefulShutdownWaitLoopMs: waitLoopMs, gracefulShutdownTimeoutMs: timeoutMs } = spec.config;
  hb.report("DRAINING");
  const steps = async (): Promise<void> => {
    await sleep(waitLoopMs);
    const drainSub = (s: Subscription): Promise<void> =>
      s.drain().catch((e: unknown) => log(`unsubscribe failed: ${errorText(e)}`));
    // drain(), not unsubscribe(): messages already delivered to this client are still served.
    await drainSub(subs.reqSub);
    await server.whenIdle();
    // Probes are answered until the last request finished: handles probe replicas with requests
    // in flight, and "no responders" would make them fail those requests as ReplicaDiedError.
    await drainSub(subs.probeSub);
    // Streams still running needed their consumers' credit until now.
    await drainSub(subs.creditSub);
    // After the last request: the user's requests may still have been using their handles.
    await handles.close();
  };
  // The whole sequence has one deadline, so a lost NATS connection (unsubscribe never confirmed)
  // or a request that never ends cannot keep the process alive past gracefulShutdownTimeoutMs.
  if (!(await within(steps(), Math.max(timeoutMs, waitLoopMs), log))) {
    log(
      `gracefulShutdownTimeoutMs (${timeoutMs}) passed: stopping with ${server.ongoing} requests still running`,
    );
  }
  server.replies.acks.close();
  hb.stop();
  hb.report("STOPPED");
  await within(nc.flush(), 1000, log);
  await nc.close();
}
