import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, UnavailableError, type StatusReport } from "@tsserve/protocol";
import { DEFAULT_PREFIX, validatePrefix } from "@tsserve/protocol/internal";
import { defaultNodeId } from "./agent-options.js";
import { ControllerClient } from "@tsserve/controller";
import { DEFAULT_STATE_DIR, startEmbeddedNats, type EmbeddedNats } from "./embedded-nats.js";
import { agentEntryPath, controllerEntry } from "./entry-paths.js";
import { spawnNodeProcess, type LogMode, type ManagedProcess } from "./managed-process.js";

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions {
  /** NATS server URL(s). @default an embedded nats-server started in `stateDir` */
  address?: string;
  /** Subject prefix. @default DEFAULT_PREFIX ("tsserve") */
  prefix?: string;
  /** Embedded NATS store, log files and `head.json`. @default DEFAULT_STATE_DIR (".tsserve") */
  stateDir?: string;
  /** Port of the embedded nats-server (a free one if taken). @default 4222 */
  natsPort?: number;
  /** Number of agent processes. @default 1 */
  agents?: number;
  /** Node ids of the agents. @default hostname + a random suffix each */
  nodeIds?: string[];
  /** Children's stdout/stderr: inherited, in `<stateDir>/logs/<name>.log`, or dropped. @default "inherit" */
  logs?: LogMode;
  /** How long to wait for the controller to answer and list every agent. @default 30000 */
  startTimeoutMs?: number;
  /** Extra command-line arguments for the controller process. @default [] */
  controllerArgs?: string[];
  /** Extra environment for the controller and agent processes. @default {} */
  env?: NodeJS.ProcessEnv;
  /** Children end when this process dies, even by SIGKILL (parent-watch preload). @default true */
  exitWithParent?: boolean;
  /** Deadline of each {@link ControllerClient} request. @default 5000 */
  clientTimeoutMs?: number;
  /** How long `stop()` lets a graceful shutdown take before signalling. @default 30000 */
  stopTimeoutMs?: number;
  /**
   * Join a cluster that has (or will have) another controller: this controller is a standby that
   * takes over through the lease, and `stop()` stops only these processes instead of asking the
   * leader to shut the whole cluster down. Needs `address`. @default false
   */
  standby?: boolean;
}

/** A controller, agents and (maybe) an embedded nats-server, all local processes. */
export interface LocalCluster extends AsyncDisposable {
  /** NATS URL every process uses. */
  readonly address: string;
  readonly prefix: string;
  readonly stateDir: string;
  /** The embedded server, or null when `address` was given. */
  readonly nats: EmbeddedNats | null;
  /** Connected to `address`; closed by `stop()`. */
  readonly client: ControllerClient;
  readonly nodeIds: readonly string[];
  /** Current pids (the controller's changes on restart). */
  readonly pids: { nats: number | null; controller: number; agents: number[] };
  /** SIGKILLs the controller and waits until it is gone. */
  killController(): Promise<void>;
  /** Starts a new controller (killing a live one first) and waits until it answers with every agent. */
  restartController(): Promise<void>;
  /** Graceful: `ctl.shutdown`, wait, then stop leftovers by pid, then the embedded server. Idempotent. */
  stop(): Promise<void>;
}

/** Polls `ctl.status` until it answers and lists every node id (or the deadline passes). */
async function waitForCluster(
  client: ControllerClient,
  nodeIds: readonly string[],
  deadline: number,
  controller: ManagedProcess,
): Promise<StatusReport> {
  let last = "no answer yet";
  for (;;) {
    if (controller.hasExited)
      throw new UnavailableError(`controller failed to start: ${await controller.describeExit()}`);
    try {
      const status = await client.status();
      const known = new Set(status.nodes.map((n) => n.nodeId));
      const missing = nodeIds.filter((id) => !known.has(id));
      if (missing.length === 0) return status;
      last = `agents not registered yet: ${missing.join(", ")}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new UnavailableError(`local cluster not ready in time: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a local tsserve cluster: an embedded nats-server unless `address` is given, one controller
 * and `agents` agent processes; resolves once the controller answers `ctl.status` and lists every
 * agent. Used by `tsserve start`, tests and benches.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  const common = {
    logs: options.logs ?? "inherit",
    logDir: join(stateDir, "logs"),
    exitWithParent: options.exitWithParent ?? true,
  };
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  if (options.standby && !options.address)
    throw new ConfigError("a standby joins an existing cluster: give its NATS address");
  const deadline = Date.now() + timeoutMs;
  const nats = options.address ? null : await startEmbeddedNats({ stateDir, port: options.natsPort ?? 4222 });
  const address = options.address ?? (nats as EmbeddedNats).url;
  // Agents keep replica log files under the state dir (`tsserve logs` reads them through NATS).
  const env = {
    TSSERVE_LOG_DIR: join(stateDir, "logs"),
    ...options.env,
    TSSERVE_ADDRESS: address,
    TSSERVE_PREFIX: prefix,
  };
  const nodeIds = Array.from(
    { length: options.agents ?? 1 },
    (_, i) => options.nodeIds?.[i] ?? defaultNodeId(),
  );
  const children: ManagedProcess[] = [];
  const entry = controllerEntry();

  const spawnController = (): ManagedProcess =>
    spawnNodeProcess({
      ...common,
      name: "controller",
      entry,
      args: ["--address", address, "--prefix", prefix, ...(options.controllerArgs ?? [])],
      env,
    });
  let controller: ManagedProcess | undefined;
  let client: ControllerClient | undefined;
  const agents: ManagedProcess[] = [];
  try {
    controller = spawnController();
    children.push(controller);
    for (const nodeId of nodeIds) {
      const agent = spawnNodeProcess({
        ...common,
        name: `agent-${nodeId}`,
        entry: agentEntryPath(),
        args: ["--address", address, "--prefix", prefix, "--node-id", nodeId],
        env,
      });
      agents.push(agent);
      children.push(agent);
    }
    client = await ControllerClient.connect({ address, prefix, timeoutMs: options.clientTimeoutMs ?? 5000 });
    await waitForCluster(client, nodeIds, deadline, controller);
  } catch (e) {
    await Promise.all(children.map((c) => c.kill()));
    await client?.close();
    await nats?.stop();
    throw e;
  }

  const headFile = join(stateDir, "head.json");
  let ctl: ManagedProcess = controller;
  const pids = (): LocalCluster["pids"] => ({
    nats: nats?.pid ?? null,
    controller: ctl.pid,
    agents: agents.map((a) => a.pid),
  });
  const writeHead = (): void =>
    writeFileSync(headFile, `${JSON.stringify({ address, prefix, nodeIds, pids: pids() }, null, 2)}\n`);
  writeHead();
  const connected = client;
  let stopping: Promise<void> | undefined;

  const cluster: LocalCluster = {
    address,
    prefix,
    stateDir,
    nats,
    client: connected,
    nodeIds,
    get pids() {
      return pids();
    },
    killController: () => ctl.kill(),
    restartController: async () => {
      await ctl.kill();
      ctl = spawnController();
      writeHead();
      await waitForCluster(connected, nodeIds, Date.now() + timeoutMs, ctl);
    },
    stop: () =>
      (stopping ??= (async () => {
        const grace = options.stopTimeoutMs ?? 30_000;
        // The controller drains every application and stops the agents itself; if it cannot, the
        // agents still drain their replicas on SIGTERM.
        const asked =
          !options.standby &&
          !ctl.hasExited &&
          (await connected.shutdown().then(
            () => true,
            () => false,
          ));
        await Promise.all([ctl, ...agents].map((p) => p.stop(asked ? grace : 0)));
        await connected.close();
        await nats?.stop();
        if (existsSync(headFile)) rmSync(headFile, { force: true });
      })()),
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
  return cluster;
}
