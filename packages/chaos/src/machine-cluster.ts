import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as natsConnect, type NatsConnection } from "nats";
import { agentEntryPath, parentWatchNodeArg } from "@tsserve/cluster/internal";
import { ControllerClient } from "@tsserve/controller";
import { controllerEntryPath } from "@tsserve/controller/internal";
import { natsServerBinary, waitUntil } from "@tsserve/test-utils";
import { createNetnsLab, type Machine, type NetnsLab } from "./netns.js";

/**
 * tsserve on three "machines" (network namespaces, see netns.ts), the way docs/multi-machine.md
 * sets it up: on each machine a nats-server of a 3-node cluster (JetStream on), a controller (one
 * leads, the others stand by) and an agent, each connected to its own machine's server. The test
 * process sits in the root namespace and reaches every machine over the bridge.
 */
export interface MachineCluster extends AsyncDisposable {
  readonly lab: NetnsLab;
  readonly prefix: string;
  /** `nats://<ip>:4222` of each machine. */
  readonly urls: readonly string[];
  /** The log directory (kept when TSSERVE_KEEP_LOGS=1). */
  readonly dir: string;
  /** Connects to the given machines' servers from the root namespace (pings every second). */
  connect(machines: number[]): Promise<NatsConnection>;
  /** A controller client on a connection to the given machines. */
  controllerClient(machines: number[], timeoutMs?: number): Promise<ControllerClient>;
  /** The last lines of every controller's and nats-server's log: what a failed wait shows. */
  logs(): string;
  stop(): Promise<void>;
}

/** Options of {@link startMachineCluster}. */
export interface MachineClusterOptions {
  prefix?: string;
  /** Extra controller flags (timeouts). */
  controllerArgs?: string[];
  /** Extra environment of the controllers and agents (agents pass `TSSERVE_REPLICA_ENV` on). */
  env?: NodeJS.ProcessEnv;
}

const NATS_PORT = 4222;
const ROUTE_PORT = 6222;

/** Starts the lab and everything on it; resolves once machine 1's controller leads with every agent. */
export async function startMachineCluster(options: MachineClusterOptions = {}): Promise<MachineCluster> {
  const dir = mkdtempSync(join(tmpdir(), "tsserve-machines-"));
  const lab = createNetnsLab(3, join(dir, "logs"));
  const prefix = options.prefix ?? "mm";
  const urls = lab.machines.map((m) => `nats://${m.ip}:${NATS_PORT}`);
  const children: ChildProcess[] = [];
  const conns: NatsConnection[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await lab.destroy();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (process.env["TSSERVE_KEEP_LOGS"] === "1") console.error(`multi-machine logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const connect = async (machines: number[]): Promise<NatsConnection> => {
    const nc = await natsConnect({
      servers: machines.map((i) => urls[i]!),
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 1000,
      maxPingOut: 3,
      timeout: 2000,
      // The servers may still be starting: keep trying rather than failing the first attempt.
      waitOnFirstConnect: true,
    });
    conns.push(nc);
    return nc;
  };
  const node = (m: Machine, label: string, entry: string, args: string[]): void => {
    children.push(
      m.spawn(label, process.execPath, [parentWatchNodeArg(), entry, ...args], {
        ...options.env,
        TSSERVE_PARENT_PID: String(process.pid),
      }),
    );
  };
  try {
    for (const [i, m] of lab.machines.entries()) {
      const routes = lab.machines
        .filter((o) => o !== m)
        .map((o) => `nats-route://${o.ip}:${ROUTE_PORT}`)
        .join(", ");
      const conf = join(dir, `nats-m${i + 1}.conf`);
      writeFileSync(
        conf,
        [
          `server_name: m${i + 1}`,
          `listen: "${m.ip}:${NATS_PORT}"`,
          // Pings every second, three missed: a dead peer or client is noticed in seconds.
          `ping_interval: "1s"`,
          `ping_max: 3`,
          `jetstream { store_dir: "${join(dir, `js-m${i + 1}`)}" }`,
          `cluster { name: tsserve_machines, listen: "${m.ip}:${ROUTE_PORT}", routes: [${routes}] }`,
        ].join("\n"),
      );
      children.push(m.spawn("nats", natsServerBinary(), ["-c", conf]));
    }
    // The JetStream meta group needs a quorum before the controller can create its bucket.
    const probe = await connect([0]);
    await waitUntil(
      async () => {
        const jsm = await probe.jetstreamManager({ timeout: 1000 });
        await jsm.getAccountInfo();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: "JetStream meta leader across the three machines" },
    );
    const ctlArgs = (i: number): string[] => [
      "--address",
      urls[i]!,
      "--prefix",
      prefix,
      "--controller-id",
      `ctl-m${i + 1}`,
      ...(options.controllerArgs ?? []),
    ];
    const agentArgs = (i: number): string[] => [
      "--address",
      urls[i]!,
      "--prefix",
      prefix,
      "--node-id",
      `m${i + 1}`,
    ];
    // Machine 1's controller first, so that it leads; the others stand by.
    node(lab.machines[0]!, "controller", controllerEntryPath(), ctlArgs(0));
    const admin = new ControllerClient(probe, { prefix, timeoutMs: 2000 });
    await waitUntil(async () => (await admin.status().catch(() => undefined)) !== undefined, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: "controller on m1 answering",
    });
    for (const [i, m] of lab.machines.entries()) {
      if (i > 0) node(m, "controller", controllerEntryPath(), ctlArgs(i));
      node(m, "agent", agentEntryPath(), agentArgs(i));
    }
    await waitUntil(async () => (await admin.status().catch(() => undefined))?.nodes.length === 3, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: "all three agents registered",
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const cluster: MachineCluster = {
    lab,
    prefix,
    urls,
    dir,
    connect,
    controllerClient: async (machines, timeoutMs = 2000) =>
      new ControllerClient(await connect(machines), { prefix, timeoutMs }),
    logs: () => logTails(join(dir, "logs"), lab.machines.length, ["controller", "nats"]),
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return cluster;
}

/** The last 40 lines of each machine's logs of the given labels. */
function logTails(logDir: string, machines: number, labels: string[], lines = 40): string {
  const out: string[] = [];
  for (const label of labels) {
    for (let i = 1; i <= machines; i++) {
      const file = join(logDir, `m${i}-${label}.log`);
      if (!existsSync(file)) continue;
      const tail = readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      out.push(`--- m${i} ${label} ---\n${tail}`);
    }
  }
  return out.join("\n");
}
