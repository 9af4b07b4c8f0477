import { status as Status } from "@grpc/grpc-js";
import { ACCESS_LOG_ENV, type Logger } from "@tsserve/protocol/internal";
import { statusForError } from "./http-errors.js";
import { LogRateLimiter } from "./log-rate-limiter.js";
import type { Route, RouteTable } from "./route-table.js";

/** Longest text (error message, path, session id) a line carries: clients and user code choose their length. */
export const MAX_LOGGED_CHARS = 1000;
/** Most routes a "routes changed" line names per kind; the rest are counted. */
export const MAX_LOGGED_ROUTES = 50;

/**
 * gRPC codes that say the server side failed, as HTTP 5xx do. The others (NOT_FOUND,
 * INVALID_ARGUMENT, UNIMPLEMENTED, CANCELLED, …) are the client's doing.
 */
const SERVER_SIDE_GRPC: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

function clip(s: string): string {
  return s.length > MAX_LOGGED_CHARS ? `${s.slice(0, MAX_LOGGED_CHARS)}…` : s;
}

/** `code`, `error` ("<name>: <message>") and `requestId` of a failure, as the replicas log them. */
function errorFields(error: unknown): { code?: string; error?: string; requestId?: string } {
  if (error === undefined) return {};
  if (!(error instanceof Error)) return { error: clip(String(error)) };
  const e = error as Error & { code?: unknown; remoteName?: unknown; data?: Record<string, unknown> };
  // A user error arrives as UserCodeError; the class the user threw is its remoteName.
  const name = e.code === "USER_CODE" && typeof e.remoteName === "string" ? e.remoteName : e.name;
  const requestId = e.data?.["requestId"];
  return {
    ...(typeof e.code === "string" ? { code: e.code } : {}),
    error: clip(`${name}: ${e.message}`),
    ...(typeof requestId === "string" ? { requestId } : {}),
  };
}

function describeRoutes(routes: readonly Route[], show: (r: Route) => string): string[] {
  const out = routes.slice(0, MAX_LOGGED_ROUTES).map(show);
  if (routes.length > MAX_LOGGED_ROUTES) out.push(`…and ${routes.length - MAX_LOGGED_ROUTES} more`);
  return out;
}

const target = (r: Route): string => `${r.app}/${r.ingress}`;

/** Options of {@link ProxyLog}. */
export interface ProxyLogOptions {
  /** Where {@link ACCESS_LOG_ENV} is read, once. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Clock in milliseconds (the outage's length, the rate limit's windows). @default Date.now */
  now?: () => number;
}

/**
 * Every line the proxy writes: start and stop, route table changes, the controller's status being
 * unreadable and readable again, failed answers (warn when the server side failed, rate-limited;
 * debug for the client's mistakes) and the opt-in access log. Nothing here runs per request
 * unless a request failed or the access log is on.
 */
export class ProxyLog {
  /** One line per finished request or call ({@link ACCESS_LOG_ENV}); read once, checked per request. */
  readonly accessLog: boolean;
  private readonly now: () => number;
  private readonly failures: LogRateLimiter;
  private readonly refusals: LogRateLimiter;
  /** When the controller's status stopped being readable (ms), or undefined while it is. */
  private unreachableSince: number | undefined;

  constructor(
    private readonly logger: Logger,
    options: ProxyLogOptions = {},
  ) {
    this.accessLog = (options.env ?? process.env)[ACCESS_LOG_ENV] === "1";
    this.now = options.now ?? Date.now;
    const now = this.now;
    this.failures = new LogRateLimiter({
      now,
      onSuppressed: (suppressed, windowMs) =>
        logger.warn({ suppressed, windowMs }, "failed-request lines suppressed (rate limit)"),
    });
    // Client mistakes (debug) get their own budget: a flood of them must not hide server failures.
    this.refusals = new LogRateLimiter({
      now,
      onSuppressed: (suppressed, windowMs) =>
        logger.debug({ suppressed, windowMs }, "refused-request lines suppressed (rate limit)"),
    });
  }

  /** The proxy listens. */
  started(url: string, grpcPort: number | null, grpcServices: readonly string[]): void {
    this.logger.info(
      { url, grpcPort, ...(grpcPort === null ? {} : { grpcServices }), accessLog: this.accessLog },
      "proxy started",
    );
  }

  /** The proxy closed; reports lines still held back by the rate limits. */
  stopped(): void {
    this.failures.flush();
    this.refusals.flush();
    this.logger.info("proxy stopped");
  }

  /** A status poll succeeded: ends an outage, and says what changed when `table` is not `previous`. */
  routesRead(table: RouteTable, previous: RouteTable): void {
    if (this.unreachableSince !== undefined) {
      const unreachableMs = this.now() - this.unreachableSince;
      this.unreachableSince = undefined;
      this.logger.info({ unreachableMs, routes: table.size }, "controller status readable again");
    }
    if (table === previous) return;
    const { added, removed, changed } = table.diff(previous);
    this.logger.info(
      {
        routes: table.size,
        added: describeRoutes(added, (r) => `${r.routePrefix} -> ${target(r)}`),
        removed: describeRoutes(removed, (r) => `${r.routePrefix} -> ${target(r)}`),
        changed: changed
          .slice(0, MAX_LOGGED_ROUTES)
          .map((c) => `${c.to.routePrefix}: ${target(c.from)} -> ${target(c.to)}`),
      },
      "routes changed",
    );
  }

  /** A status poll failed: one warn line when an outage starts, nothing on the polls after it. */
  routesUnreadable(error: Error, table: RouteTable): void {
    if (this.unreachableSince !== undefined) return;
    this.unreachableSince = this.now();
    this.logger.warn(
      { error: clip(`${error.name}: ${error.message}`), routes: table.size },
      "controller status unreadable; the last route table stays in use",
    );
  }

  /**
   * An HTTP request answered with an error or a 5xx. `status` below 400 with an error means the
   * stream had begun (200 went out) and ended with an error line.
   */
  httpFailed(
    method: string | undefined,
    path: string,
    route: string,
    status: number,
    sessionId: string | null,
    error: unknown,
  ): void {
    const midStream = status < 400;
    const serverSide = midStream ? statusForError(error) >= 500 : status >= 500;
    const fields = () => ({
      method,
      path: clip(path),
      route,
      status,
      ...(midStream ? { midStream } : {}),
      ...errorFields(error),
      sessionId: sessionId === null ? null : clip(sessionId),
    });
    if (serverSide) {
      if (this.failures.allow()) this.logger.warn(fields(), "http request failed");
    } else if (this.logger.isLevelEnabled("debug") && this.refusals.allow()) {
      this.logger.debug(fields(), "http request refused");
    }
  }

  /** A gRPC call ended with a non-OK code (`error` is what the handle or the ingress raised). */
  grpcFailed(rpc: string, code: Status, error: unknown, sessionId: string | null): void {
    // A request too large for NATS is RESOURCE_EXHAUSTED too, but the client's doing.
    const tooLarge = (error as { code?: unknown } | null)?.code === "PAYLOAD_TOO_LARGE";
    const fields = () => ({
      rpc,
      grpcCode: Status[code] ?? String(code),
      ...errorFields(error),
      sessionId: sessionId === null ? null : clip(sessionId),
    });
    if (SERVER_SIDE_GRPC.has(code) && !tooLarge) {
      if (this.failures.allow()) this.logger.warn(fields(), "grpc call failed");
    } else if (this.logger.isLevelEnabled("debug") && this.refusals.allow()) {
      this.logger.debug(fields(), "grpc call refused");
    }
  }

  /** The request handler itself threw (a bug): the client got a 500. */
  handlerFailed(error: unknown): void {
    if (this.failures.allow()) this.logger.error(errorFields(error), "http request handler failed");
  }

  /** Access log: one finished HTTP request. Call only when {@link accessLog} is on. */
  httpRequest(
    method: string | undefined,
    path: string,
    status: number,
    ms: number,
    sessionId: string | null,
  ): void {
    this.logger.info(
      {
        method,
        path: clip(path),
        status,
        ms: Math.round(ms * 10) / 10,
        sessionId: sessionId === null ? null : clip(sessionId),
      },
      "http request",
    );
  }

  /** Access log: one finished gRPC call. Call only when {@link accessLog} is on. */
  grpcCall(rpc: string, code: Status, ms: number, sessionId: string | null): void {
    this.logger.info(
      {
        rpc,
        grpcCode: Status[code] ?? String(code),
        ms: Math.round(ms * 10) / 10,
        sessionId: sessionId === null ? null : clip(sessionId),
      },
      "grpc call",
    );
  }
}
