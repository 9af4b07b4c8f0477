import { ConfigError } from "@tsserve/protocol";
import { DEFAULT_PREFIX, createLogger, validatePrefix, type Logger } from "@tsserve/protocol/internal";
import type { Client } from "@tsserve/handle";
import {
  resolveGrpcOptions,
  type GrpcIngressOptions,
  type ResolvedGrpcOptions,
} from "./grpc/grpc-options.js";
import { ProxyMetrics } from "./metrics.js";

/** Interface the proxy listens on when none is given: loopback only, so nothing is exposed by accident. */
export const DEFAULT_HOST = "127.0.0.1";
/** HTTP port, as in Ray Serve. */
export const DEFAULT_PORT = 8000;
/** Largest request body accepted; larger bodies get 413 without being read to the end. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Deadline of one call (the handle's `timeoutMs`) and of receiving one request from a client. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** More request headers than this get 431. */
export const DEFAULT_MAX_HEADERS_COUNT = 100;
/** Header carrying the session id; matched case-insensitively with `-` and `_` treated as equal. */
export const DEFAULT_SESSION_HEADER = "x-session-id";
/** How often the route table is refreshed from the controller's `ctl.status`. */
export const DEFAULT_ROUTE_REFRESH_MS = 1000;
/** Deadline of receiving a request's headers: short, so slow-loris clients cannot hold sockets. */
export const MAX_HEADERS_TIMEOUT_MS = 10_000;

/** Options of {@link startProxy}. Give either `client`, or `address` (and optionally `prefix`). */
export interface ProxyOptions {
  /**
   * A connected handle client to route through; the proxy does not close it. For the handle-side
   * Prometheus series, create it with the sink of the `metrics` you pass here
   * (`connect({ metrics: metrics.sink })`).
   */
  client?: Client;
  /**
   * Where `/metrics` series live. @default a new {@link ProxyMetrics} (fed by the proxy's own client
   * when `address` is given)
   */
  metrics?: ProxyMetrics;
  /** NATS server URL(s), comma-separated; the proxy connects and closes its own client. */
  address?: string;
  /** Subject prefix of the tsserve cluster (with `address`, or to override the client's). @default "tsserve" */
  prefix?: string;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** TCP port; 0 picks a free port (read it back from `proxy.port`). @default 8000 */
  port?: number;
  /** Largest accepted request body in bytes; larger gets 413. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Deadline of one call through the handle (504 after it) and of receiving the request. @default 60000 */
  requestTimeoutMs?: number;
  /** Largest number of request headers; more gets 431. @default 100 */
  maxHeadersCount?: number;
  /** Session header name; `-` and `_` match each other, case-insensitively. @default "x-session-id" */
  sessionHeader?: string;
  /** Route table refresh period (polls `<prefix>.ctl.status`). @default 1000 */
  routeRefreshMs?: number;
  /**
   * Forward each request's method, path below the route prefix, query and headers to the ingress
   * (`getRequestContext().http`). Off saves encoding the headers on every call. @default true
   */
  forwardHttpInfo?: boolean;
  /** Also serve gRPC (on its own port) with these options. @default no gRPC ingress */
  grpc?: GrpcIngressOptions;
  /**
   * Where the proxy's lines go (start, route changes, controller outages, failed answers, the
   * access log of `TSSERVE_ACCESS_LOG=1`). @default createLogger("proxy") (stderr; level and format
   * from `TSSERVE_LOG_LEVEL` / `TSSERVE_LOG_FORMAT`)
   */
  log?: Logger;
}

/** {@link ProxyOptions} validated, every default filled in. */
export interface ResolvedProxyOptions {
  client: Client | undefined;
  metrics: ProxyMetrics;
  address: string | undefined;
  prefix: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxHeadersCount: number;
  sessionHeader: string;
  routeRefreshMs: number;
  forwardHttpInfo: boolean;
  grpc: ResolvedGrpcOptions | undefined;
  log: Logger;
}

const KNOWN_KEYS = [
  "client",
  "metrics",
  "address",
  "prefix",
  "host",
  "port",
  "maxBodyBytes",
  "requestTimeoutMs",
  "maxHeadersCount",
  "sessionHeader",
  "routeRefreshMs",
  "forwardHttpInfo",
  "grpc",
  "log",
] as const;

function bad(field: string, expected: string, value: unknown): never {
  throw new ConfigError(
    `proxy option ${field}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

function int(
  field: string,
  value: unknown,
  dflt: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value ?? dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    bad(field, `an integer between ${min} and ${max}`, v);
  }
  return v;
}

function bool(field: string, value: unknown, dflt: boolean): boolean {
  const v = value ?? dflt;
  if (typeof v !== "boolean") bad(field, "true or false", v);
  return v;
}

// The pino methods the proxy calls; checked here so a wrong object fails at start, not on the first error.
const LOGGER_METHODS = ["debug", "info", "warn", "error", "isLevelEnabled"] as const;

function isLogger(v: unknown): v is Logger {
  return (
    typeof v === "object" &&
    v !== null &&
    LOGGER_METHODS.every((m) => typeof (v as Record<string, unknown>)[m] === "function")
  );
}

// HTTP header names are RFC 7230 tokens; anything else could never match a real header.
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Validates proxy options once and fills in every default; throws ConfigError naming the bad field. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  if (typeof options !== "object" || options === null) bad("(options)", "an object", options);
  for (const key of Object.keys(options)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `proxy option ${key}: unknown option; known options are ${KNOWN_KEYS.join(", ")}`,
      );
    }
  }
  const { client, address } = options;
  if (client === undefined && (typeof address !== "string" || address.length === 0)) {
    bad("address", "a NATS URL such as nats://127.0.0.1:4222 (or pass `client`)", address);
  }
  if (client !== undefined && address !== undefined) {
    throw new ConfigError("proxy options client and address: give one of them, not both");
  }
  const prefix = validatePrefix(options.prefix ?? client?.prefix ?? DEFAULT_PREFIX);
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== "string" || host.length === 0) bad("host", "a non-empty host name or IP address", host);
  const sessionHeader = options.sessionHeader ?? DEFAULT_SESSION_HEADER;
  if (typeof sessionHeader !== "string" || !HEADER_TOKEN.test(sessionHeader)) {
    bad("sessionHeader", "an HTTP header name such as x-session-id", sessionHeader);
  }
  if (options.metrics !== undefined && !(options.metrics instanceof ProxyMetrics)) {
    bad("metrics", "a ProxyMetrics instance", typeof options.metrics);
  }
  const log = options.log;
  if (log !== undefined && !isLogger(log))
    bad("log", 'a Logger such as createLogger("proxy") returns', typeof log);
  return {
    client,
    metrics: options.metrics ?? new ProxyMetrics(),
    address,
    prefix,
    host,
    port: int("port", options.port, DEFAULT_PORT, 0, 65535),
    maxBodyBytes: int("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 0),
    requestTimeoutMs: int("requestTimeoutMs", options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 1),
    maxHeadersCount: int("maxHeadersCount", options.maxHeadersCount, DEFAULT_MAX_HEADERS_COUNT, 1, 10_000),
    sessionHeader,
    routeRefreshMs: int("routeRefreshMs", options.routeRefreshMs, DEFAULT_ROUTE_REFRESH_MS, 10),
    forwardHttpInfo: bool("forwardHttpInfo", options.forwardHttpInfo, true),
    grpc: options.grpc === undefined ? undefined : resolveGrpcOptions(options.grpc),
    log: log ?? createLogger("proxy"),
  };
}
