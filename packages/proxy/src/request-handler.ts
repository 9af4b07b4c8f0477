import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import {
  DeploymentNotFoundError,
  isHttpResponse,
  MethodNotFoundError,
  TsserveError,
} from "@tsserve/protocol";
import { methodNotAllowedError, sendError, tooManyHeadersError } from "./http-errors.js";
import type { ProxyMetrics } from "./metrics.js";
import { NDJSON_CONTENT_TYPE, writeNdjson } from "./ndjson-stream.js";
import { requestInfo, sendHttpResponse } from "./http-shaping.js";
import type { ProxyLog } from "./proxy-log.js";
import { readBody } from "./request-body.js";
import type { SubmitOptions } from "@tsserve/handle/internal";
import type { RoutePoller } from "./route-poller.js";
import type { RouteMatch } from "./route-table.js";
import { withModelId } from "./model-id-header.js";

/**
 * Per-call options the proxy builds, checks and hands to the handle as they are (`submitCall`: one
 * fresh object per call, no copy): method, session id, stream, timeout, and for HTTP the request
 * info (`getRequestContext().http`) and the JSON fast path.
 */
export type ProxyCallOptions = SubmitOptions;

/** A call in flight: a DeploymentResponse (thenable) or a response stream (async iterable). */
export interface CallResponse {
  /** Stops the call (routing, or the replica's stream) when the client went away. */
  cancel(): void;
}

/** Calls one deployment; returns a thenable (unary) or an async iterable (stream), both cancellable. */
export type CallFn = (
  app: string,
  deployment: string,
  options: ProxyCallOptions,
  arg: unknown,
) => CallResponse;

/** What the request handler needs from the proxy. */
export interface HandlerContext {
  routes: RoutePoller;
  metrics: ProxyMetrics;
  call: CallFn;
  readSessionId: (rawHeaders: readonly string[]) => string | null;
  maxBodyBytes: number;
  maxHeadersCount: number;
  requestTimeoutMs: number;
  /** Forward method, path, query and headers to user code with every call. */
  forwardHttpInfo: boolean;
  /** Failed answers and the opt-in access log. */
  log: ProxyLog;
}

/**
 * How a request ended: what the metrics, the failure lines and the access log need. One object per
 * request (as the `{ route, status }` before it), always built with every field so V8 sees one shape.
 */
interface Outcome {
  /** Route prefix, a local path, or {@link UNMATCHED_ROUTE}. */
  route: string;
  status: number;
  /** The call's session id; null when none was sent or the request never reached a route. */
  sessionId: string | null;
  /** What made the answer an error (undefined for answers that are not). */
  error: unknown;
}

function outcome(route: string, status: number, sessionId: string | null = null, error?: unknown): Outcome {
  return { route, status, sessionId, error };
}

/** Paths the proxy answers itself; every other path goes through the route table. */
export const HEALTH_PATH = "/-/healthz";
export const ROUTES_PATH = "/-/routes";
export const METRICS_PATH = "/metrics";
/** `route` label of requests that matched no route (never the raw path: unbounded label values). */
export const UNMATCHED_ROUTE = "unmatched";

// Ask the client to close after answers that left request bytes unread (413, 431): the rest of
// the body would otherwise be parsed as the next request on a keep-alive connection.
const CLOSE = { connection: "close" };

function splitUrl(url: string | undefined): { path: string; query: string } {
  let u = url ?? "/";
  // Absolute-form targets ("GET http://host/path") are legal HTTP; reduce them to the path.
  if (!u.startsWith("/")) {
    try {
      const parsed = new URL(u);
      u = parsed.pathname + parsed.search;
    } catch {
      u = "/";
    }
  }
  const q = u.indexOf("?");
  return q === -1 ? { path: u, query: "" } : { path: u.slice(0, q), query: u.slice(q + 1) };
}

function wantsStream(query: string, accept: string | undefined): boolean {
  if (query !== "") {
    const s = new URLSearchParams(query).get("stream");
    if (s === "1" || s === "true") return true;
  }
  return accept !== undefined && accept.includes(NDJSON_CONTENT_TYPE);
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

/** `/-/routes`: route prefix → `{ app, ingress }`. */
function routesJson(routes: RoutePoller): Record<string, { app: string; ingress: string }> {
  return Object.fromEntries(
    routes.table.list().map((r) => [r.routePrefix, { app: r.app, ingress: r.ingress }]),
  );
}

function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
): number {
  const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(status, { "content-type": contentType, "content-length": length });
  res.end(body);
  return status;
}

function unknownRoute(path: string, routes: RoutePoller): DeploymentNotFoundError {
  const prefixes = routes.table.prefixes();
  const known =
    prefixes.length > 0 ? prefixes.join(", ") : "none (no application with a routePrefix is deployed)";
  const stale = routes.lastError ? ` (route table may be stale: ${routes.lastError.message})` : "";
  return new DeploymentNotFoundError(
    `no route matches path ${JSON.stringify(path)}; known route prefixes: ${known}${stale}`,
    {
      data: { path, knownPrefixes: prefixes },
    },
  );
}

/**
 * Builds the `request` listener of the proxy's HTTP server. It never throws and never leaves a
 * request unanswered: every failure becomes a JSON error with the matching status.
 */
export function createRequestHandler(
  ctx: HandlerContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<Outcome> => {
    const { path, query } = splitUrl(req.url);
    // Node may drop headers past its own maxHeadersCount (set one above ours in proxy-server.ts),
    // so "more than the limit" is all that can be known, and all that matters.
    const headerCount = req.rawHeaders.length / 2;
    if (headerCount > ctx.maxHeadersCount) {
      const error = tooManyHeadersError(ctx.maxHeadersCount);
      return outcome(UNMATCHED_ROUTE, sendError(res, error, CLOSE), null, error);
    }
    switch (path) {
      case HEALTH_PATH:
        return outcome(path, sendText(res, 200, TEXT, "ok"));
      case ROUTES_PATH:
        return outcome(path, sendText(res, 200, JSON_TYPE, JSON.stringify(routesJson(ctx.routes))));
      case METRICS_PATH:
        return outcome(path, sendText(res, 200, ctx.metrics.contentType, await ctx.metrics.render()));
    }
    const match = ctx.routes.table.match(path);
    if (match === undefined) {
      const error = unknownRoute(path, ctx.routes);
      return outcome(UNMATCHED_ROUTE, sendError(res, error), null, error);
    }
    const route = match.route.routePrefix;
    if (req.method !== "POST" && req.method !== "GET") {
      res.setHeader("allow", "GET, POST");
      const error = methodNotAllowedError(req.method);
      return outcome(route, sendError(res, error), null, error);
    }
    return callRoute(req, res, match, path, query);
  };

  const callRoute = async (
    req: IncomingMessage,
    res: ServerResponse,
    match: RouteMatch,
    path: string,
    query: string,
  ): Promise<Outcome> => {
    const { app, ingress } = match.route;
    const route = match.route.routePrefix;
    if (match.tooDeep) {
      const error = new MethodNotFoundError(
        `path ${JSON.stringify(req.url)} names more than one method segment after route ${route}; use ${route}/<method>`,
      );
      return outcome(route, sendError(res, error), null, error);
    }
    // The body goes to the replica as JSON text, unparsed (the JSON fast path, json-call.ts in
    // @tsserve/protocol): the replica parses it and answers JSON text, which goes out as is.
    let body: Buffer;
    try {
      body = await readBody(req, ctx.maxBodyBytes);
    } catch (error) {
      const close = error instanceof TsserveError && error.code === "PAYLOAD_TOO_LARGE";
      return outcome(route, sendError(res, error, close ? CLOSE : {}), null, error);
    }
    // A client that goes away cancels the call: routing stops and the replica's stream is closed.
    // (DeploymentResponse.cancel(), not an AbortSignal: an AbortController per request costs ~2 %.)
    let response: CallResponse | undefined;
    res.once("close", () => {
      if (!res.writableFinished) response?.cancel();
    });
    const stream = wantsStream(query, req.headers.accept);
    const options: ProxyCallOptions = {
      sessionId: ctx.readSessionId(req.rawHeaders),
      method: match.method,
      stream,
      timeoutMs: ctx.requestTimeoutMs,
      signal: undefined,
      json: true,
    };
    const { sessionId } = options;
    if (ctx.forwardHttpInfo) options.http = requestInfo(req, route, path, query);
    try {
      withModelId(options, req.rawHeaders);
      response = ctx.call(app, ingress, options, body);
    } catch (error) {
      return outcome(route, sendError(res, error), sessionId, error);
    }
    if (stream) {
      const out = outcome(route, 0, sessionId);
      // writeNdjson keeps the error that ended the stream in `out`, for the failure line.
      out.status = await writeNdjson(res, response as unknown as AsyncIterable<unknown>, out);
      return out;
    }
    let value: unknown;
    try {
      value = await (response as unknown as PromiseLike<unknown>);
    } catch (error) {
      return outcome(route, sendError(res, error), sessionId, error);
    }
    if (res.destroyed) return outcome(route, 499, sessionId);
    if (isHttpResponse(value)) {
      return outcome(route, sendHttpResponse(res, value, `${ingress}.${match.method}`), sessionId);
    }
    // A JSON call's result is its JSON text, made by the replica.
    if (value instanceof Uint8Array) return outcome(route, sendText(res, 200, JSON_TYPE, value), sessionId);
    const error = new TsserveError(
      "INTERNAL",
      `${ingress}.${match.method} answered a JSON call without JSON text`,
    );
    return outcome(route, sendError(res, error), sessionId, error);
  };

  return (req, res) => {
    const start = performance.now();
    serve(req, res).then(
      (o) => {
        const ms = performance.now() - start;
        ctx.metrics.observeHttp(o.route, o.status, ms / 1000);
        // Only failed requests and the opt-in access log cost more than these two checks.
        if (o.error !== undefined || o.status >= 500) {
          ctx.log.httpFailed(req.method, splitUrl(req.url).path, o.route, o.status, o.sessionId, o.error);
        }
        if (ctx.log.accessLog) {
          ctx.log.httpRequest(req.method, splitUrl(req.url).path, o.status, ms, o.sessionId);
        }
      },
      (error: unknown) => {
        // Only a bug gets here; answer anyway so the client is not left hanging.
        const status = sendError(res, error);
        const ms = performance.now() - start;
        ctx.metrics.observeHttp(UNMATCHED_ROUTE, status, ms / 1000);
        ctx.log.handlerFailed(error);
        if (ctx.log.accessLog) ctx.log.httpRequest(req.method, splitUrl(req.url).path, status, ms, null);
      },
    );
  };
}
