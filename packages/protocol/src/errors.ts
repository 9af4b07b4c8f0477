import { ERROR_CODES, type ErrorCode } from "./error-codes.js";

/** Base class of every error tsserve raises on purpose. */
export class TsserveError extends Error {
  override name = "TsserveError";
  readonly code: ErrorCode;
  /** Extra machine-readable detail; crosses the wire as `data`. */
  readonly data: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options?.data;
  }

  /** Whether sending the same request again is safe and may succeed. */
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

/** The handle already holds `maxQueuedRequests` pending requests; raised at once, nothing sent. */
export class BackPressureError extends TsserveError {
  override name = "BackPressureError";
  constructor(
    readonly numQueuedRequests: number,
    readonly maxQueuedRequests: number,
    deployment = "",
  ) {
    super(
      "BACK_PRESSURE",
      `request rejected: ${numQueuedRequests} requests already queued${deployment ? ` for ${deployment}` : ""} (maxQueuedRequests=${maxQueuedRequests})`,
      { data: { numQueuedRequests, maxQueuedRequests } },
    );
  }
}

export class RequestTimeoutError extends TsserveError {
  override name = "RequestTimeoutError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("TIMEOUT", message, options);
  }
}

export class RequestCancelledError extends TsserveError {
  override name = "RequestCancelledError";
  constructor(message = "request cancelled by the caller", options?: { cause?: unknown }) {
    super("CANCELLED", message, options);
  }
}

/** The replica was lost while running the request: it may have run; only the caller knows if a retry is safe. */
export class ReplicaDiedError extends TsserveError {
  override name = "ReplicaDiedError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("REPLICA_DIED", message, options);
  }
}

export class DeploymentNotFoundError extends TsserveError {
  override name = "DeploymentNotFoundError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("DEPLOYMENT_NOT_FOUND", message, options);
  }
}

export class MethodNotFoundError extends TsserveError {
  override name = "MethodNotFoundError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("METHOD_NOT_FOUND", message, options);
  }
}

/** The deployment's code threw; `message` and `remoteName` are the original error's. */
export class UserCodeError extends TsserveError {
  override name = "UserCodeError";
  constructor(
    message: string,
    /** The `name` of the error the user code threw (e.g. "TypeError"). */
    readonly remoteName: string = "Error",
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super("USER_CODE", message, options);
  }
}

/** Options of {@link ServeError}. */
export interface ServeErrorOptions {
  /** HTTP status the proxy answers with, 400–599. @default 500, or the one matching `grpcCode` */
  status?: number;
  /** gRPC status code (0–16) the gRPC ingress answers with. @default the one matching `status` (INTERNAL = 13) */
  grpcCode?: number;
  /** Extra machine-readable detail; crosses the wire. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

/** gRPC code → HTTP status, for a ServeError that names only its gRPC code. */
const STATUS_BY_GRPC: Record<number, number> = {
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};
/** HTTP status → gRPC code, for a ServeError that names only its HTTP status. */
const GRPC_BY_STATUS: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  408: 4,
  409: 6,
  412: 9,
  429: 8,
  499: 1,
  501: 12,
  503: 14,
  504: 4,
};

/**
 * An error user code throws to choose how the ingress answers: the HTTP proxy sends `status`
 * (with the usual `{ error: { code, name, message } }` body), the gRPC ingress sends `grpcCode`
 * with the message. Handle callers get it back as a ServeError (code USER_CODE) with both fields.
 *
 * ```ts
 * throw new ServeError("no such item", { status: 404 });            // gRPC: NOT_FOUND
 * throw new ServeError("slow down", { status: 429, grpcCode: 8 });  // RESOURCE_EXHAUSTED
 * ```
 */
export class ServeError extends UserCodeError {
  override name = "ServeError";
  /** HTTP status of the answer. */
  readonly status: number;
  /** gRPC status code of the answer. */
  readonly grpcCode: number;

  constructor(message: string, options: ServeErrorOptions = {}) {
    const { status, grpcCode } = options;
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
      throw new RangeError(`ServeError: status must be an integer 400-599, got ${String(status)}`);
    }
    if (grpcCode !== undefined && (!Number.isInteger(grpcCode) || grpcCode < 1 || grpcCode > 16)) {
      throw new RangeError(`ServeError: grpcCode must be an integer 1-16, got ${String(grpcCode)}`);
    }
    const s = status ?? (grpcCode === undefined ? 500 : (STATUS_BY_GRPC[grpcCode] ?? 500));
    const g = grpcCode ?? GRPC_BY_STATUS[s] ?? (s >= 500 ? 13 : 2);
    super(message, "ServeError", {
      cause: options.cause,
      data: { ...options.data, httpStatus: s, grpcCode: g },
    });
    this.status = s;
    this.grpcCode = g;
  }
}

export class ProtocolError extends TsserveError {
  override name = "ProtocolError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("BAD_REQUEST", message, options);
  }
}

/**
 * The call's arguments cannot be sent: nested too deeply, cyclic, or holding a value the wire
 * cannot carry (a symbol, a BigInt over 64 bits, an object whose getter throws). Raised by the
 * caller's own handle before anything is sent.
 */
export class BadRequestError extends TsserveError {
  override name = "BadRequestError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("BAD_REQUEST", message, options);
  }
}

export class PayloadTooLargeError extends TsserveError {
  override name = "PayloadTooLargeError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("PAYLOAD_TOO_LARGE", message, options);
  }
}

/** The replica's reply or a stream chunk was over the NATS server's max_payload (HTTP 502, not 413). */
export class ReplyTooLargeError extends TsserveError {
  override name = "ReplyTooLargeError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("REPLY_TOO_LARGE", message, options);
  }
}

/** Bad options, router kwargs or config files; the message names the field, the value and what is accepted. */
export class ConfigError extends TsserveError {
  override name = "ConfigError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("INVALID_CONFIG", message, options);
  }
}

/**
 * A call's model could not be loaded on its replica (multiplexing): the deployment's
 * `loadModel(modelId)` threw, or the deployment is not multiplexed. The call did not run.
 */
export class ModelLoadError extends TsserveError {
  override name = "ModelLoadError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("MODEL_LOAD_FAILED", message, options);
  }
}

export class UnavailableError extends TsserveError {
  override name = "UnavailableError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("UNAVAILABLE", message, options);
  }
}

/** `getSessionState()` misused, or a `set()` refused (over `maxBytes`); `data` says which. */
export class SessionStateError extends TsserveError {
  override name = "SessionStateError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("SESSION_STATE", message, options);
  }
}

/**
 * This replica no longer owns the call's session (another replica took it over); what the call
 * set was not stored. The replica has dropped the session; the next call goes to the new owner.
 */
export class SessionOwnershipLostError extends TsserveError {
  override name = "SessionOwnershipLostError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("SESSION_OWNERSHIP_LOST", message, options);
  }
}

/** The session did not reach this replica within `handoffTimeoutS`; the call did not run (retryable). */
export class SessionHandoffTimeoutError extends TsserveError {
  override name = "SessionHandoffTimeoutError";
  constructor(message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super("SESSION_HANDOFF_TIMEOUT", message, options);
  }
}

// Guards check `code` rather than `instanceof`, so they work across duplicate package copies and
// for errors rebuilt from the wire.
function hasCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === code;
}
export const isTsserveError = (e: unknown): e is TsserveError =>
  e instanceof Error && typeof (e as { code?: unknown }).code === "string" && "retryable" in e;
export const isBackPressureError = (e: unknown): e is BackPressureError => hasCode(e, "BACK_PRESSURE");
export const isRequestTimeoutError = (e: unknown): e is RequestTimeoutError => hasCode(e, "TIMEOUT");
export const isRequestCancelledError = (e: unknown): e is RequestCancelledError => hasCode(e, "CANCELLED");
export const isReplicaDiedError = (e: unknown): e is ReplicaDiedError => hasCode(e, "REPLICA_DIED");
export const isDeploymentNotFoundError = (e: unknown): e is DeploymentNotFoundError =>
  hasCode(e, "DEPLOYMENT_NOT_FOUND");
export const isMethodNotFoundError = (e: unknown): e is MethodNotFoundError => hasCode(e, "METHOD_NOT_FOUND");
export const isUserCodeError = (e: unknown): e is UserCodeError => hasCode(e, "USER_CODE");
export const isBadRequestError = (e: unknown): e is BadRequestError => hasCode(e, "BAD_REQUEST");
export const isReplyTooLargeError = (e: unknown): e is ReplyTooLargeError => hasCode(e, "REPLY_TOO_LARGE");
export const isConfigError = (e: unknown): e is ConfigError => hasCode(e, "INVALID_CONFIG");
export const isSessionStateError = (e: unknown): e is SessionStateError => hasCode(e, "SESSION_STATE");
export const isSessionOwnershipLostError = (e: unknown): e is SessionOwnershipLostError =>
  hasCode(e, "SESSION_OWNERSHIP_LOST");
export const isSessionHandoffTimeoutError = (e: unknown): e is SessionHandoffTimeoutError =>
  hasCode(e, "SESSION_HANDOFF_TIMEOUT");
export const isModelLoadError = (e: unknown): e is ModelLoadError => hasCode(e, "MODEL_LOAD_FAILED");
/** True for a ServeError, also one rebuilt from the wire or from another package copy. */
export const isServeError = (e: unknown): e is ServeError =>
  hasCode(e, "USER_CODE") && typeof (e as { status?: unknown }).status === "number";
