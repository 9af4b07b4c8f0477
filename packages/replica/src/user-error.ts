import { errorToWire, type WireError } from "@tsserve/protocol/internal";

/**
 * The stack of the error user code threw, riding on its WireError under a symbol: the request
 * hooks log it once with the request id, and the wire encoder never sees it (symbol keys are not
 * encoded), so callers get a stack only when debugging is on (`errorToWire`).
 */
export const LOCAL_STACK = Symbol("tsserve.localStack");

/** A WireError carrying the local stack for the log. */
export type LoggedWireError = WireError & { [LOCAL_STACK]?: string };

/** `errorToWire(e, true)` for what the deployment's code threw, keeping its stack for the log. */
export function userErrorToWire(e: unknown): LoggedWireError {
  const wire: LoggedWireError = errorToWire(e, true);
  if (e instanceof Error && typeof e.stack === "string") wire[LOCAL_STACK] = e.stack;
  return wire;
}
