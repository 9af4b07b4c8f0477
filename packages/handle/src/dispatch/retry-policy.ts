import { DEFAULT_MAX_RETRIES, type RoutingConfig } from "@tsserve/protocol/internal";
import type { PendingRequest } from "../pending-request.js";

/**
 * Whether a call whose replica died (or stopped answering) while running it may run again: its
 * method is declared idempotent by the deployment (`idempotent: true` or a list of names), it is
 * unary (a stream may have delivered chunks already), and it has retries left (`maxRetries`).
 */
export function mayRetry(config: RoutingConfig, req: PendingRequest): boolean {
  if (req.stream) return false;
  const idempotent = config.idempotent ?? false;
  if (idempotent !== true && !(Array.isArray(idempotent) && idempotent.includes(req.method))) return false;
  return req.retries < (config.maxRetries ?? DEFAULT_MAX_RETRIES);
}
