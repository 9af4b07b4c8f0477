import type { PendingRequest } from "../pending-request.js";
import type { SubmitOptions } from "./types.js";

/**
 * Copies the call options that only some routers read (`prefixKey`, `multiplexedModelId`) onto
 * the pending request. A separate function so the dispatcher's submit stays one line longer and
 * calls without these options pay one comparison.
 */
export function routingKeys(req: PendingRequest, o: SubmitOptions): void {
  if (o.prefixKey != null) req.prefixKey = o.prefixKey;
  if (o.multiplexedModelId != null) req.multiplexedModelId = o.multiplexedModelId;
}
