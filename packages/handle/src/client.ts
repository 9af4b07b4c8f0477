import { nuid, type NatsConnection } from "nats";
import { ConfigError, RequestCancelledError, UnavailableError, isConfigError } from "@tsserve/protocol";
import { DEFAULT_PREFIX, connectNats, validatePrefix, validateToken } from "@tsserve/protocol/internal";
import { defaultCallOptions, makeHandle, type DeploymentHandle } from "./deployment-handle.js";
import { HandleMetricsPublisher } from "./handle-metrics-publisher.js";
import { LivenessMonitor } from "./liveness-monitor.js";
import { controllerMembership } from "./membership/controller-membership.js";
import type { MembershipSource } from "./membership/membership-source.js";
import type { HandleMetricsSink } from "./metrics-sink.js";
import { NatsTransport } from "./nats-transport.js";
import { clientAddress, type FoundAddress } from "./local-head.js";
import { type ConnectOptions, type FromConnectionOptions, type GetHandleOptions } from "./options.js";
import { DeploymentDispatcher } from "./dispatch/dispatcher.js";

/**
 * Connects to a tsserve cluster (contract), through `connectNats` like every tsserve component:
 * `noAsyncTraces: true` (async stack traces cost throughput on every request), reconnect forever,
 * a ping every 2 s with 3 missed allowed (a cut network is noticed in ~6 s).
 */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const found = clientAddress(options.address, options.cwd);
  const address = found.address;
  const prefix = validatePrefix(options.prefix ?? found.headPrefix ?? DEFAULT_PREFIX);
  let nc: NatsConnection;
  try {
    // connectNats: credentials from TSSERVE_NATS_*, reconnect forever, and pings that notice a cut
    // network in ~6 s (the proxy routes through this client).
    nc = await connectNats({ name: "tsserve-client", ...options.natsOptions, address });
  } catch (e) {
    if (isConfigError(e)) throw e;
    // Raw NATS errors ("Authorization Violation", connection refused) become one typed error
    // that says where we tried and how credentials are given.
    const cause = (e as Error).cause ?? e;
    throw new UnavailableError(
      `cannot connect to NATS at ${address} (from ${found.source}): ${(cause as Error).message} (credentials and TLS come from the TSSERVE_NATS_* environment variables)`,
      { cause },
    );
  }
  return new Client(nc, { prefix, metrics: options.metrics, cwd: options.cwd, found }, true);
}

/**
 * A connection to a tsserve cluster: makes deployment handles and owns what they share (one
 * multiplexed reply inbox, one liveness timer, one metrics timer).
 */
export class Client {
  /** Unique id of this client; prefixes request ids and names it in handle metrics. */
  readonly id = nuid.next();
  /** Subject prefix in use. */
  readonly prefix: string;
  /** The NATS address `connect()` used (for `fromConnection`: the server connected to). */
  readonly address: string;
  /**
   * Where that address came from: `"options.address"`, `"TSSERVE_ADDRESS"`, the local head's
   * address file (its path), or `"fromConnection"`.
   */
  readonly addressSource: string;
  private readonly metrics: HandleMetricsSink | undefined;
  private readonly cwd: string | undefined;
  private readonly transport: NatsTransport;
  private readonly dispatchers = new Map<string, DeploymentDispatcher>();
  private readonly sourceIds = new WeakMap<MembershipSource, number>();
  private readonly liveness: LivenessMonitor;
  private readonly publisher: HandleMetricsPublisher;
  private sourceCounter = 0;
  private closed = false;

  /** @internal Use {@link connect} or {@link Client.fromConnection}. */
  constructor(
    /** The NATS connection (borrowed when made by `fromConnection`). */
    readonly nc: NatsConnection,
    options: {
      prefix: string;
      metrics?: HandleMetricsSink | undefined;
      cwd?: string | undefined;
      found?: FoundAddress;
    },
    private readonly ownsConnection: boolean,
  ) {
    this.prefix = options.prefix;
    this.address = options.found?.address ?? nc.getServer();
    this.addressSource = options.found?.source ?? "fromConnection";
    this.metrics = options.metrics;
    this.cwd = options.cwd;
    this.transport = new NatsTransport(nc);
    const all = (): Iterable<DeploymentDispatcher> => this.dispatchers.values();
    this.liveness = new LivenessMonitor(all);
    this.publisher = new HandleMetricsPublisher(nc, this.prefix, this.id, all);
  }

  /**
   * A client over a connection the caller already has (replicas use it to call other
   * deployments). `close()` then leaves the connection open.
   */
  static fromConnection(nc: NatsConnection, options: FromConnectionOptions = {}): Client {
    const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
    return new Client(nc, { prefix, metrics: options.metrics, cwd: options.cwd }, false);
  }

  /**
   * A handle to `deploymentName` of application `options.app` (contract). Handles of the same
   * deployment share one dispatcher (router, queue-length cache, wait queue), unless `membership` is given
   * (then the handle gets its own).
   */
  getDeploymentHandle<T = any>(deploymentName: string, options: GetHandleOptions): DeploymentHandle<T> {
    if (this.closed) throw new RequestCancelledError("this tsserve client is closed; connect() again");
    if (typeof options !== "object" || options === null || typeof options.app !== "string") {
      throw new ConfigError(
        `getDeploymentHandle(${JSON.stringify(deploymentName)}, options): options.app must name the application, got ${JSON.stringify(options)}`,
      );
    }
    validateToken("deployment name", deploymentName);
    validateToken("application name", options.app);
    // A handle with its own membership source gets a dispatcher of its own, shared only with handles
    // of the same source.
    const key = `${options.app}/${deploymentName}/${options.membership === undefined ? "" : this.sourceId(options.membership)}`;
    let dispatcher = this.dispatchers.get(key);
    if (dispatcher === undefined) {
      dispatcher = new DeploymentDispatcher({
        app: options.app,
        deployment: deploymentName,
        membership:
          options.membership ??
          controllerMembership({
            nc: this.nc,
            prefix: this.prefix,
            app: options.app,
            deployment: deploymentName,
          }),
        metrics: this.metrics,
        cwd: this.cwd,
        transport: this.transport.forDeployment(this.prefix, options.app, deploymentName),
        requestIdPrefix: `${this.id}-`,
      });
      this.dispatchers.set(key, dispatcher);
    }
    return makeHandle(dispatcher, defaultCallOptions()) as DeploymentHandle<T>;
  }

  /** Requests not yet answered, over every deployment (for tests and shutdown logic). */
  get pendingRequests(): number {
    let n = 0;
    for (const d of this.dispatchers.values()) n += d.pendingCount;
    return n;
  }

  /**
   * Rejects every pending request with a clear error, stops timers and subscriptions, and closes
   * the connection unless it was borrowed (`fromConnection`).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new RequestCancelledError("the tsserve client was closed while the request was pending");
    for (const d of this.dispatchers.values()) d.close(error);
    this.liveness.close();
    this.publisher.close();
    this.transport.close();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private sourceId(source: MembershipSource): number {
    let id = this.sourceIds.get(source);
    if (id === undefined) this.sourceIds.set(source, (id = ++this.sourceCounter));
    return id;
  }
}
