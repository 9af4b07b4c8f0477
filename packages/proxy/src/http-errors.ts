import type { ServerResponse } from "node:http";
import { TsserveError, type ErrorCode } from "@tsserve/protocol";

/**
 * JSON error body every non-2xx answer carries: `{ error: { code, name, message } }`, plus
 * `remoteName` (the class the deployment threw, e.g. "RangeError") for USER_CODE, and `stack` only
 * when debugging is on (`TSSERVE_DEBUG=1`: then the replica's stack is part of it).
 */
export interface HttpErrorBody {
  error: { code: string; name: string; message: string; remoteName?: string; stack?: string };
}

/**
 * An error the proxy itself raises with a fixed HTTP status (413, 431, 405…). It is a TsserveError so
 * the body still carries one of the protocol's codes.
 */
export class HttpError extends TsserveError {
  override name = "HttpError";
  constructor(
    /** HTTP status to answer with. */
    readonly status: number,
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; name?: string },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.name !== undefined) this.name = options.name;
  }
}

/** Status per error code for errors that come back from a handle. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BACK_PRESSURE: 503,
  TIMEOUT: 504,
  CANCELLED: 499,
  REPLICA_DIED: 502,
  DEPLOYMENT_NOT_FOUND: 404,
  METHOD_NOT_FOUND: 404,
  USER_CODE: 500,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  // The replica's answer was too large for NATS: not the client's fault (413 would say it was).
  REPLY_TOO_LARGE: 502,
  INVALID_CONFIG: 500,
  UNAVAILABLE: 503,
  // Session state: a misused or refused set() is the deployment's bug; a lost owner or a hand-off
  // that took too long is a transient server-side condition (503: try again).
  SESSION_STATE: 500,
  SESSION_OWNERSHIP_LOST: 503,
  SESSION_HANDOFF_TIMEOUT: 503,
  // The deployment's model loader failed: the server side, not the client's request.
  MODEL_LOAD_FAILED: 500,
  INTERNAL: 500,
};

function codeOf(error: unknown): ErrorCode | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && Object.hasOwn(STATUS_BY_CODE, code) ? (code as ErrorCode) : undefined;
}

/**
 * HTTP status for any thrown value. Codes are read off the error (not `instanceof`) so errors from
 * another copy of the protocol package map the same way.
 */
export function statusForError(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const code = codeOf(error);
  if (code === "USER_CODE") {
    // A ServeError: the user chose the status (validated 400-599 where it was built).
    const s = (error as { status?: unknown }).status;
    if (typeof s === "number" && Number.isInteger(s) && s >= 400 && s <= 599) return s;
  }
  return code === undefined ? 500 : STATUS_BY_CODE[code];
}

/** The JSON body for any thrown value; unknown errors become code INTERNAL with their message. */
export function errorBody(error: unknown): HttpErrorBody {
  const code = codeOf(error) ?? "INTERNAL";
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  const body: HttpErrorBody = { error: { code, name, message } };
  const remoteName = (error as { remoteName?: unknown } | null)?.remoteName;
  if (code === "USER_CODE" && typeof remoteName === "string") body.error.remoteName = remoteName;
  if (process.env["TSSERVE_DEBUG"] === "1" && error instanceof Error && error.stack)
    body.error.stack = error.stack;
  return body;
}

/** 413 raised as soon as a body passes the limit. */
export function bodyTooLargeError(limit: number, declared?: number): HttpError {
  const seen = declared === undefined ? "more" : `${declared} bytes`;
  return new HttpError(
    413,
    "PAYLOAD_TOO_LARGE",
    `request body too large: ${seen}, limit is ${limit} bytes (maxBodyBytes)`,
    {
      name: "PayloadTooLargeError",
    },
  );
}

/** 431 for requests with more headers than allowed. */
export function tooManyHeadersError(limit: number): HttpError {
  return new HttpError(431, "BAD_REQUEST", `too many request headers: more than ${limit} (maxHeadersCount)`, {
    name: "RequestHeaderFieldsTooLarge",
  });
}

/** 405 for methods other than GET and POST on a route. */
export function methodNotAllowedError(method: string | undefined): HttpError {
  return new HttpError(
    405,
    "BAD_REQUEST",
    `HTTP method ${String(method)} not allowed; use POST (or GET without a body)`,
    {
      name: "MethodNotAllowed",
    },
  );
}

/**
 * Writes a JSON error answer, unless headers already went out (then the socket is all that is left to
 * end). `extraHeaders` lets 413/431 ask the client to close the connection.
 */
export function sendError(
  res: ServerResponse,
  error: unknown,
  extraHeaders: Record<string, string> = {},
): number {
  const status = statusForError(error);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  const body = JSON.stringify(errorBody(error));
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
  return status;
}
