import { status as Status, type ServiceError } from "@grpc/grpc-js";
import type { ErrorCode } from "@tsserve/protocol";

/**
 * tsserve error codes → gRPC status codes (docs/design.md §7): back-pressure → RESOURCE_EXHAUSTED,
 * timeout → DEADLINE_EXCEEDED, unknown app/method → NOT_FOUND/UNIMPLEMENTED, replica died →
 * UNAVAILABLE, user error → INTERNAL (or the code a ServeError chose).
 */
export const GRPC_CODE_BY_ERROR: Record<ErrorCode, Status> = {
  BACK_PRESSURE: Status.RESOURCE_EXHAUSTED,
  TIMEOUT: Status.DEADLINE_EXCEEDED,
  CANCELLED: Status.CANCELLED,
  REPLICA_DIED: Status.UNAVAILABLE,
  DEPLOYMENT_NOT_FOUND: Status.NOT_FOUND,
  METHOD_NOT_FOUND: Status.UNIMPLEMENTED,
  USER_CODE: Status.INTERNAL,
  BAD_REQUEST: Status.INVALID_ARGUMENT,
  PAYLOAD_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  // The reply, not the request, was too large: the server side failed (HTTP answers 502).
  REPLY_TOO_LARGE: Status.INTERNAL,
  INVALID_CONFIG: Status.FAILED_PRECONDITION,
  UNAVAILABLE: Status.UNAVAILABLE,
  SESSION_STATE: Status.INTERNAL,
  SESSION_OWNERSHIP_LOST: Status.UNAVAILABLE,
  SESSION_HANDOFF_TIMEOUT: Status.UNAVAILABLE,
  MODEL_LOAD_FAILED: Status.INTERNAL,
  INTERNAL: Status.INTERNAL,
};

/** The status object grpc-js sends for a failed call: code, details, and the tsserve code as metadata. */
export type GrpcStatus = Partial<ServiceError> & { code: Status; details: string };

/** An error the gRPC ingress itself raises with a fixed status (bad metadata, unknown application). */
export class GrpcCallError extends Error {
  override name = "GrpcCallError";
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
  }
}

function errorCodeOf(error: unknown): ErrorCode | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && Object.hasOwn(GRPC_CODE_BY_ERROR, code)
    ? (code as ErrorCode)
    : undefined;
}

/** The gRPC status for any thrown value; details = `<name>: <message>` so clients see what failed. */
export function grpcStatusFor(error: unknown): GrpcStatus {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof GrpcCallError) return { code: error.code, details: message };
  const code = errorCodeOf(error);
  let grpc: Status = code === undefined ? Status.INTERNAL : GRPC_CODE_BY_ERROR[code];
  if (code === "USER_CODE") {
    // A ServeError: the user chose the code (validated 1-16 where it was built).
    const chosen = (error as { grpcCode?: unknown }).grpcCode;
    if (typeof chosen === "number" && Number.isInteger(chosen) && chosen >= 1 && chosen <= 16) grpc = chosen;
  }
  const name = error instanceof Error ? error.name : "Error";
  return { code: grpc, details: `${name}: ${message}` };
}
