import { DEFAULT_MAX_RETRIES, type RoutingConfig } from "@tsserve/protocol/internal";
import { backoffDelayMs } from "../backoff.js";
import { RequestState, type PendingRequest } from "../pending-request.js";

/**
 * Whether a call whose replica died (or stopped answering) while running it may run again: its
 * method is declared idempotent by the deployment (`idempotent: true` or a list of names), it is
 * unary (a stream may have delivered chunks already), and it has retries left (`maxRetries`).
 * False before the first membership update (no config).
 */
export function mayRetry(config: RoutingConfig | null, req: PendingRequest): boolean {
  if (config === null || req.stream) return false;
  const idempotent = config.idempotent ?? false;
  if (idempotent !== true && !(Array.isArray(idempotent) && idempotent.includes(req.method))) return false;
  return req.retries < (config.maxRetries ?? DEFAULT_MAX_RETRIES);
}

/**
 * Places an idempotent call again after a backoff (25 ms doubling per retry), unless it ended
 * meanwhile. The caller has already taken the call back from its replica (state WAITING); the call
 * counts as unacknowledged again, since the next replica has not seen it.
 */
export function retryLater(req: PendingRequest, place: (req: PendingRequest) => void): void {
  req.acked = false;
  req.retryTimer = setTimeout(() => {
    req.retryTimer = null;
    if (req.state === RequestState.WAITING) place(req);
  }, backoffDelayMs(req.retries++));
}
