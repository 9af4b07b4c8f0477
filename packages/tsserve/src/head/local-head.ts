import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { Registry } from "prom-client";
import { createServer } from "node:net";
import { pidAlive } from "@tsserve/cluster/internal";
import { startLocalCluster, type LocalCluster } from "@tsserve/cluster";
import { ConfigError } from "@tsserve/protocol";
import { DEFAULT_PREFIX, validatePrefix } from "@tsserve/protocol/internal";
import { startProxy } from "@tsserve/proxy";
import { startProxyPool } from "./proxy-pool.js";
import {
  assertNoLiveHead,
  clearHeadRecord,
  stateDirPath,
  writeHeadRecord,
  type HeadRecord,
} from "./state-dir.js";
import type { Dashboard } from "../dashboard/dashboard-server.js";
import { startHeadDashboard } from "./head-dashboard.js";
import { validateAddress } from "./target.js";

/** Options of {@link startHead}: the flags of `tsserve start`. */
export interface HeadOptions {
  /** Join this NATS instead of launching an embedded nats-server. */
  address?: string;
  /** Subject prefix of the cluster. @default "tsserve" */
  prefix?: string;
  /** HTTP proxy port; 0 picks a free one; null disables the proxy. @default 8000 */
  httpPort?: number | null;
  /**
   * HTTP proxy processes serving the one port (`--proxies N`): 1 runs the proxy inside the head;
   * more fork that many `node:cluster` workers, each a proxy on a core of its own. @default 1
   */
  proxies?: number;
  /** Interface the proxy listens on. @default "127.0.0.1" */
  httpHost?: string;
  /** Where the address, pids, logs and the JetStream store go. @default ".tsserve" */
  stateDir?: string;
  /** Local agents to start (more than one simulates several machines). @default 1 */
  agents?: number;
  /** Port of the embedded nats-server (a free one if taken). @default 4222 */
  natsPort?: number;
  /**
   * Serve gRPC beside the HTTP proxy (on the proxy's host): port (0 = any free one) and the proto
   * files whose services it serves. @default no gRPC ingress
   */
  grpc?: { port: number; protoFiles: string[] };
  /** Dashboard and cluster-wide /metrics port; 0 picks a free one; null disables it. @default 8265 */
  dashboardPort?: number | null;
  /** Join `address` as a standby head: its controller waits for the lease; stopping it stops only this head. */
  standby?: boolean;
  /** Replicas of the controller's state bucket. @default the NATS cluster size up to 3 */
  kvReplicas?: number;
}

/** The head's HTTP ingress: one proxy in the head, or a pool of proxy processes. */
interface HeadProxy {
  readonly url: string;
  readonly grpcPort: number | null;
  /** The proxy series for the dashboard's /metrics. */
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A running head: embedded NATS (maybe), controller, agents, proxy. */
export interface Head {
  readonly record: HeadRecord;
  readonly stateDir: string;
  /** Resolves when the controller has exited (after `tsserve shutdown`, or a crash). */
  readonly controllerExited: Promise<void>;
  /** Stops the proxy, the cluster and the embedded NATS; removes the address file. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a head in this process's care: its children (controller, agents, nats-server) are tied to
 * it, so it must stay alive for the cluster to stay up (`tsserve start` detaches a process that runs
 * this). Writes `<state-dir>/address` and `head-process.json` once everything answers.
 */
export async function startHead(options: HeadOptions = {}): Promise<Head> {
  const stateDir = stateDirPath(options.stateDir);
  // A start that fails leaves no .tsserve/ behind when it made it (later commands would find it).
  const created = !existsSync(stateDir);
  mkdirSync(stateDir, { recursive: true });
  try {
    return await startHeadIn(stateDir, options);
  } catch (e) {
    if (created) rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
}

async function startHeadIn(stateDir: string, options: HeadOptions): Promise<Head> {
  assertNoLiveHead(stateDir);
  const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const address = options.address === undefined ? undefined : validateAddress(options.address, "--address");
  const cluster: LocalCluster = await startLocalCluster({
    stateDir,
    prefix,
    agents: options.agents ?? 1,
    logs: "file",
    ...(options.standby ? { standby: true } : {}),
    ...(options.kvReplicas === undefined
      ? {}
      : { controllerArgs: ["--kv-replicas", String(options.kvReplicas)] }),
    ...(address === undefined ? {} : { address }),
    ...(options.natsPort === undefined
      ? {}
      : { natsPort: options.natsPort === 0 ? await freePort() : options.natsPort }),
  });
  let proxy: HeadProxy | undefined;
  try {
    const httpPort = options.httpPort === undefined ? 8000 : options.httpPort;
    if (httpPort !== null) {
      const proxyOptions = {
        address: cluster.address,
        prefix,
        port: httpPort,
        host: options.httpHost ?? "127.0.0.1",
        ...(options.grpc === undefined ? {} : { grpc: options.grpc }),
      };
      const count = options.proxies ?? 1;
      if (count > 1) proxy = await startProxyPool(proxyOptions, count);
      else {
        const p = await startProxy(proxyOptions);
        proxy = { url: p.url, grpcPort: p.grpcPort, registry: p.metrics.registry, close: () => p.close() };
      }
    }
  } catch (e) {
    await cluster.stop();
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new ConfigError(
        `--http-port ${options.httpPort ?? 8000}: ${options.httpHost ?? "127.0.0.1"}:${options.httpPort ?? 8000} is already in use; ` +
          "pick another port with --http-port (0 = any free port) or --no-http",
        { cause: e },
      );
    }
    throw e;
  }
  let dashboard: Dashboard | undefined;
  try {
    dashboard = await startHeadDashboard(
      cluster.address,
      prefix,
      options.dashboardPort === undefined ? 8265 : options.dashboardPort,
      options.httpHost ?? "127.0.0.1",
      proxy ? [proxy.registry] : [],
    );
  } catch (e) {
    await proxy?.close();
    await cluster.stop();
    throw e;
  }
  const record: HeadRecord = {
    address: cluster.address,
    prefix,
    pid: process.pid,
    natsPid: cluster.pids.nats,
    controllerPid: cluster.pids.controller,
    agentPids: cluster.pids.agents,
    httpUrl: proxy?.url ?? null,
    grpcAddress: proxy?.grpcPort == null ? null : `${options.httpHost ?? "127.0.0.1"}:${proxy.grpcPort}`,
    dashboardUrl: dashboard?.url ?? null,
    grpcProtoFiles: options.grpc?.protoFiles ?? [],
    startedAt: Date.now(),
  };
  writeHeadRecord(stateDir, record);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await dashboard?.close();
      await proxy?.close();
      await cluster.stop();
      clearHeadRecord(stateDir, process.pid);
    })());
  return { record, stateDir, controllerExited: controllerExit(cluster), stop };
}

/** A port free on 127.0.0.1 right now, for `--nats-port 0` (nats-server reads 0 as its default 4222). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr !== null ? addr.port : 0));
    });
  });
}

// How often the head checks that its controller still runs (LocalCluster exposes pids, not exits).
const CONTROLLER_CHECK_MS = 250;

/** Resolves once the controller process is gone (after `ctl.shutdown`, or a crash). */
function controllerExit(cluster: LocalCluster): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!pidAlive(cluster.pids.controller)) {
        clearInterval(timer);
        resolve();
      }
    }, CONTROLLER_CHECK_MS);
  });
}
