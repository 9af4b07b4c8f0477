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
import { requestStorage, setReplicaContext } from "./context.js";
import { startHealthChecks } from "./health-check.js";
import { Heartbeats, type HeartbeatState } from "./heartbeat.js";
import { INIT_HOOK, MethodTable } from "./method-table.js";
import { RequestServer, type LogLine } from "./request-server.js";
import { StreamCredits } from "./stream-credits.js";
import { serveMetrics, setProcessLabels } from "@tsserve/protocol/internal";
import { ReplicaMetrics } from "./replica-metrics.js";
import { RequestHooks } from "./request-hooks.js";
import { setSessionStateProvider } from "./session/session-api.js";
import { SessionManager } from "./session/session-manager.js";
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
async function construct(spec: ReplicaSpec, handles: HandleSource): Promise<[object, MethodTable]> {
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
  return [instance, new MethodTable(instance, node.deployment.methods)];
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
  let methods: MethodTable;
  try {
    [instance, methods] = await construct(spec, handles);
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
    methods,
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
  const sessions = await openSessions(spec, nc, instance, server, hb, log);
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

  sessions?.subscribe(server.onForwarded);
  let draining: Promise<void> | undefined;
  const running: RunningReplica = {
    server,
    connection: nc,
    state: () => hb.state,
    drain: () =>
      (draining ??=
        (stopHealthChecks(),
        drainReplica(spec, nc, server, handles, hb, { reqSub, probeSub, creditSub }, log, sessions))),
  };
  return running;
}

/**
 * Stateful deployments: opens the session bucket and routes session calls through a
 * SessionManager. A bucket that cannot be opened fails the start (FAILED, exit 1) like a
 * constructor error: serving without the store would lose every session's state.
 */
async function openSessions(
  spec: ReplicaSpec,
  nc: NatsConnection,
  instance: object,
  server: RequestServer,
  hb: Heartbeats,
  log: LogLine,
): Promise<SessionManager | undefined> {
  const settings = spec.config.sessionState ?? null;
  if (settings === null) return undefined;
  let sessions: SessionManager;
  try {
    sessions = await SessionManager.open(nc, spec, settings, instance, server, log);
  } catch (e) {
    hb.report("FAILED", `session state bucket: ${errorText(e)}`);
    await nc.flush().catch(() => undefined);
    await nc.close();
    throw new ReplicaStartError(`replica ${spec.replicaId}: the session state bucket could not be opened`, {
      cause: e,
    });
  }
  server.sessions = sessions;
  const storage = requestStorage();
  setSessionStateProvider(sessions, () => storage.getStore());
  hb.sessions = () => sessions.counts();
  return sessions;
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
  sessions: SessionManager | undefined,
): Promise<void> {
  const { gracefulShutdownWaitLoopMs: waitLoopMs, gracefulShutdownTimeoutMs: timeoutMs } = spec.config;
  hb.report("DRAINING");
  const steps = async (): Promise<void> => {
    await sleep(waitLoopMs);
    const drainSub = (s: Subscription): Promise<void> =>
      s.drain().catch((e: unknown) => log(`unsubscribe failed: ${errorText(e)}`));
    // drain(), not unsubscribe(): messages already delivered to this client are still served.
    await drainSub(subs.reqSub);
    const fwd = sessions?.forwardSubscription;
    if (fwd !== undefined) await drainSub(fwd);
    await server.whenIdle();
    // Every session goes into its record as parked, for its next owner (memory mode included).
    await sessions?.close();
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
