import { performance } from "node:perf_hooks";
import {
  ACCESS_LOG_ENV,
  ReplyKind,
  createLogger,
  type Logger,
  type RequestMessage,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";
import type { ReplicaMetrics } from "./replica-metrics.js";
import { LOCAL_STACK, type LoggedWireError } from "./user-error.js";

/** Where the request start time rides along with the request (the AsyncLocalStorage store). */
const T0 = Symbol("tsserve.t0");
type Timed = RequestMessage & { [T0]?: number };

/**
 * What the request server reports about each request: it logs a failed request with its request
 * id and session id (the user's error otherwise only reaches the caller), writes the optional
 * access log, and feeds the replica's metrics. Called on the hot path: cheap, never throws.
 */
export class RequestHooks {
  private readonly logger: Logger;
  private readonly accessLog: boolean;

  constructor(
    spec: ReplicaSpec,
    private readonly metrics: ReplicaMetrics | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.logger = createLogger("replica", {
      app: spec.app,
      deployment: spec.deployment,
      replica: spec.replicaId,
    });
    this.accessLog = env[ACCESS_LOG_ENV] === "1";
  }

  /** A request was accepted (a slot taken). */
  accepted(req: RequestMessage, ongoing: number): void {
    (req as Timed)[T0] = performance.now();
    this.metrics?.ongoing(ongoing);
  }

  /** An accepted request ended with a final reply of `kind` (`payload` is the WireError on ERROR). */
  finished(req: RequestMessage | undefined, kind: ReplyKind, payload: unknown, ongoing: number): void {
    const t0 = req === undefined ? undefined : (req as Timed)[T0];
    const ms = t0 === undefined ? 0 : performance.now() - t0;
    const failed = kind === ReplyKind.ERROR;
    this.metrics?.finished(req?.method ?? "unknown", failed, ms, ongoing, req?.sessionId);
    if (failed) {
      const e = (payload ?? {}) as Partial<LoggedWireError> & { data?: { remoteName?: unknown } };
      // A user error travels as UserCodeError with the class the user threw in data.remoteName.
      const name = typeof e.data?.remoteName === "string" ? e.data.remoteName : (e.name ?? "Error");
      this.logger.error(
        {
          requestId: req?.requestId,
          sessionId: req?.sessionId ?? null,
          method: req?.method,
          code: e.code,
          error: `${name}: ${e.message ?? ""}`,
          // Once, here, with the request id (user code's errors only; callers see it only when debugging).
          ...(e[LOCAL_STACK] === undefined ? {} : { stack: e[LOCAL_STACK] }),
        },
        "request failed",
      );
    } else if (this.accessLog) {
      this.logger.info(
        {
          requestId: req?.requestId,
          sessionId: req?.sessionId ?? null,
          method: req?.method,
          ms: Math.round(ms * 10) / 10,
        },
        "request",
      );
    }
  }
}
