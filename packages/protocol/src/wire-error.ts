import { ERROR_CODES, isErrorCode, type ErrorCode } from "./error-codes.js";
import {
  BackPressureError,
  BadRequestError,
  ConfigError,
  DeploymentNotFoundError,
  MethodNotFoundError,
  PayloadTooLargeError,
  ProtocolError,
  ReplicaDiedError,
  ReplyTooLargeError,
  ServeError,
  SessionHandoffTimeoutError,
  SessionOwnershipLostError,
  SessionStateError,
  RequestCancelledError,
  RequestTimeoutError,
  TsserveError,
  UnavailableError,
  ModelLoadError,
  UserCodeError,
} from "./errors.js";

/** The only shape in which an error crosses the wire. */
export interface WireError {
  name: string;
  code: ErrorCode;
  message: string;
  retryable: boolean;
  data?: Record<string, unknown>;
  /** Only when debugging is on (`TSSERVE_DEBUG=1`). */
  stack?: string;
}

const debugStacks = (): boolean => process.env["TSSERVE_DEBUG"] === "1";

/**
 * Turns any thrown value into a WireError. Errors that are not tsserve's own become `INTERNAL`,
 * unless `asUserCode` is set (the deployment's code threw), in which case their name and message
 * are preserved as `USER_CODE`.
 */
export function errorToWire(error: unknown, asUserCode = false): WireError {
  let wire: WireError;
  if (error instanceof TsserveError) {
    wire = { name: error.name, code: error.code, message: error.message, retryable: error.retryable };
    if (error instanceof UserCodeError) wire.data = { ...error.data, remoteName: error.remoteName };
    else if (error.data !== undefined) wire.data = error.data;
  } else {
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    const code: ErrorCode = asUserCode ? "USER_CODE" : "INTERNAL";
    wire = {
      name: asUserCode ? "UserCodeError" : name,
      code,
      message,
      retryable: ERROR_CODES[code].retryable,
    };
    if (asUserCode) wire.data = { remoteName: name };
  }
  if (debugStacks() && error instanceof Error && error.stack) wire.stack = error.stack;
  return wire;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Rebuilds a typed error from its wire form; a malformed value becomes an INTERNAL TsserveError. */
export function errorFromWire(value: unknown): TsserveError {
  if (!isRecord(value) || typeof value["message"] !== "string" || !isErrorCode(value["code"])) {
    return new TsserveError("INTERNAL", `malformed error from peer: ${safePreview(value)}`);
  }
  const message = value["message"];
  const data = isRecord(value["data"]) ? value["data"] : undefined;
  const opts = data === undefined ? undefined : { data };
  let error: TsserveError;
  switch (value["code"]) {
    case "BACK_PRESSURE":
      error = new BackPressureError(
        Number(data?.["numQueuedRequests"] ?? 0),
        Number(data?.["maxQueuedRequests"] ?? 0),
      );
      break;
    case "TIMEOUT":
      error = new RequestTimeoutError(message, opts);
      break;
    case "CANCELLED":
      error = new RequestCancelledError(message);
      break;
    case "REPLICA_DIED":
      error = new ReplicaDiedError(message, opts);
      break;
    case "DEPLOYMENT_NOT_FOUND":
      error = new DeploymentNotFoundError(message, opts);
      break;
    case "METHOD_NOT_FOUND":
      error = new MethodNotFoundError(message, opts);
      break;
    case "USER_CODE":
      error =
        serveErrorFromWire(message, data) ??
        new UserCodeError(message, String(data?.["remoteName"] ?? "Error"), opts);
      break;
    case "BAD_REQUEST":
      error =
        value["name"] === "BadRequestError"
          ? new BadRequestError(message, opts)
          : new ProtocolError(message, opts);
      break;
    case "PAYLOAD_TOO_LARGE":
      error = new PayloadTooLargeError(message, opts);
      break;
    case "REPLY_TOO_LARGE":
      error = new ReplyTooLargeError(message, opts);
      break;
    case "INVALID_CONFIG":
      error = new ConfigError(message, opts);
      break;
    case "UNAVAILABLE":
      error = new UnavailableError(message, opts);
      break;
    case "SESSION_STATE":
      error = new SessionStateError(message, opts);
      break;
    case "SESSION_OWNERSHIP_LOST":
      error = new SessionOwnershipLostError(message, opts);
      break;
    case "SESSION_HANDOFF_TIMEOUT":
      error = new SessionHandoffTimeoutError(message, opts);
      break;
    case "MODEL_LOAD_FAILED":
      error = new ModelLoadError(message, opts);
      break;
    case "INTERNAL":
      error = new TsserveError("INTERNAL", message, opts);
      break;
  }
  if (typeof value["stack"] === "string")
    error.stack = `${error.stack}\n--- remote stack ---\n${value["stack"]}`;
  return error;
}

/** A ServeError again when the wire data carries a valid status and gRPC code; else undefined. */
function serveErrorFromWire(
  message: string,
  data: Record<string, unknown> | undefined,
): ServeError | undefined {
  const status = data?.["httpStatus"];
  const grpcCode = data?.["grpcCode"];
  if (typeof status !== "number" || typeof grpcCode !== "number") return undefined;
  try {
    const { httpStatus: _s, grpcCode: _g, remoteName: _r, ...rest } = data as Record<string, unknown>;
    return new ServeError(message, { status, grpcCode, data: rest });
  } catch {
    return undefined; // out-of-range values from a peer: an ordinary UserCodeError
  }
}

function safePreview(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}
