import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Client, type DeploymentHandle } from "@tsserve/handle";
import { submitCall } from "@tsserve/handle/internal";
import { startGrpcIngress, type GrpcIngress } from "./grpc/grpc-ingress.js";
import { GrpcApplications } from "./grpc/grpc-target.js";
import type { ProxyMetrics } from "./metrics.js";
import { MAX_HEADERS_TIMEOUT_MS, resolveProxyOptions, type ProxyOptions } from "./options.js";
import { ProxyLog } from "./proxy-log.js";
import { declaredLength } from "./request-body.js";
import { createRequestHandler, type CallResponse, type ProxyCallOptions } from "./request-handler.js";
import { RoutePoller } from "./route-poller.js";
import { sessionIdReader } from "./session-header.js";

/** How long close() lets requests in progress finish before it cuts their connections. */
export const CLOSE_GRACE_MS = 5000;

/** How often Node checks the request and header deadlines of open connections. */
export const CONNECTIONS_CHECK_MS = 1000;

/** A running proxy. `await using proxy = await startProxy(...)` closes it at the end of the scope. */
export interface Proxy extends AsyncDisposable {
  /** The TCP port it listens on (the real one when `port: 0` was asked). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** The series `/metrics` renders. */
  readonly metrics: ProxyMetrics;
  /** The gRPC ingress port, or null when no `grpc` option was given. */
  readonly grpcPort: number | null;
  /** Re-reads the route table from the controller now (tests and deploy scripts need no wait). */
  refreshRoutes(): Promise<void>;
  /**
   * Stops accepting connections, lets requests in progress finish for up to {@link CLOSE_GRACE_MS}
   * (idle keep-alive connections are closed at once), stops polling, and closes the NATS client when the proxy opened it.
   */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the HTTP ingress: `POST <routePrefix>[/<method>]` calls the application's ingress
 * deployment through a handle (JSON in, JSON or NDJSON out), `x-session-id` becomes the call's
 * session id, `/-/healthz`, `/-/routes` and `/metrics` are answered locally. Routes come from the
 * controller's `ctl.status`, polled every `routeRefreshMs`; if the controller is down the last
 * table stays in use.
 */
export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const o = resolveProxyOptions(options);
  const { metrics } = o;
  // Reads TSSERVE_ACCESS_LOG once: the per-request check is one boolean.
  const log = new ProxyLog(o.log);
  let client: Client;
  let ownsClient = false;
  if (o.client !== undefined) {
    client = o.client;
  } else {
    client = await connect({
      address: o.address as string,
      prefix: o.prefix,
      metrics: metrics.sink,
      // The proxy must outlive NATS outages: keep reconnecting forever.
      natsOptions: { name: "tsserve-proxy", maxReconnectAttempts: -1 },
    });
    ownsClient = true;
  }
  // The client's own connection carries the proxy's `ctl.status` polls: no second connection.
  const { nc } = client;
  // Every application, also those without a route prefix, for the gRPC ingress's `application` lookup.
  const grpcApps = new GrpcApplications();
  const routes = new RoutePoller({
    prefix: o.prefix,
    refreshMs: o.routeRefreshMs,
    request: async (subject, body, timeoutMs) =>
      (await nc.request(subject, body, { timeout: timeoutMs })).data,
    onStatus: (apps) => {
      grpcApps.update(apps);
      metrics.updateFromStatus(apps);
    },
    onRoutes: (table, previous) => log.routesRead(table, previous),
    onFailure: (error, table) => log.routesUnreadable(error, table),
  });

  // One handle per (app, deployment): handles share the client's router, cache and connection.
  const handles = new Map<string, DeploymentHandle>();
  const call = (
    app: string,
    deployment: string,
    callOptions: ProxyCallOptions,
    arg: unknown,
  ): CallResponse => {
    const key = `${app}\u0000${deployment}`;
    let h = handles.get(key);
    if (h === undefined) {
      h = client.getDeploymentHandle(deployment, { app });
      handles.set(key, h);
    }
    // The proxy builds and checks these options itself: they go to the handle as they are, not
    // through `h.options(o).remote(x)`, which makes a new handle per call.
    return submitCall(h, callOptions, [arg]);
  };

  const handler = createRequestHandler({
    routes,
    metrics,
    call,
    readSessionId: sessionIdReader(o.sessionHeader),
    maxBodyBytes: o.maxBodyBytes,
    maxHeadersCount: o.maxHeadersCount,
    requestTimeoutMs: o.requestTimeoutMs,
    forwardHttpInfo: o.forwardHttpInfo,
    log,
  });
  const server = createServer(
    {
      // Slow clients: the whole request must arrive within requestTimeoutMs, its headers much sooner.
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: Math.min(MAX_HEADERS_TIMEOUT_MS, o.requestTimeoutMs),
      // Routing never looks at Host. Node would otherwise answer a bare 400 when a header flood
      // pushed Host past maxHeadersCount, before the handler could say 431.
      requireHostHeader: false,
      // Node checks those two deadlines only this often (default 30 s): too coarse for slow clients.
      connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, o.requestTimeoutMs),
    },
    handler,
  );
  // Node drops headers past its maxHeadersCount without a word: keep one more than our limit so
  // the handler can still see that there were too many, and answer 431.
  server.maxHeadersCount = o.maxHeadersCount + 1;
  // With `Expect: 100-continue`, refuse an oversized body before the client sends it.
  server.on("checkContinue", (req, res) => {
    const declared = declaredLength(req);
    if (declared === undefined || declared <= o.maxBodyBytes) res.writeContinue();
    handler(req, res);
  });

  let port: number;
  let grpc: GrpcIngress | undefined;
  try {
    await routes.start();
    port = await listen(server, o.port, o.host);
    if (o.grpc !== undefined) {
      grpc = await startGrpcIngress(o.grpc, o.host, {
        apps: grpcApps,
        call,
        metrics,
        log,
        requestTimeoutMs: o.requestTimeoutMs,
      });
    }
  } catch (error) {
    server.close();
    await routes.stop();
    if (ownsClient) await client.close();
    throw error;
  }
  const hostForUrl = o.host.includes(":") ? `[${o.host}]` : o.host;
  const url = `http://${hostForUrl}:${port}`;
  log.started(url, grpc?.port ?? null, grpc?.services ?? []);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grpcStopped = grpc?.close(CLOSE_GRACE_MS);
      // Long streams would hold close() forever: after a grace period, cut what is left.
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      await stopped;
      await grpcStopped;
      clearTimeout(force);
      await routes.stop();
      handles.clear();
      if (ownsClient) await client.close();
      log.stopped();
    })();
    return closing;
  };
  return {
    port,
    url,
    metrics,
    grpcPort: grpc?.port ?? null,
    refreshRoutes: () => routes.refresh(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
