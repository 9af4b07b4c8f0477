import type { PendingRequest } from "../pending-request.js";
import type { RequestRouter } from "../request-router.js";
import type { SubmitOptions } from "../dispatch/types.js";
import { modelSent } from "./model-routing.js";

/**
 * The dispatcher's glue for the call options that only some routers read (`prefixKey`,
 * `multiplexedModelId`), kept here so the dispatcher stays about sending calls. Calls without
 * these options pay one comparison in each hook.
 */

/** Copies `prefixKey` and `multiplexedModelId` from the call options onto the pending request. */
export function routingKeys(req: PendingRequest, o: SubmitOptions): void {
  if (o.prefixKey == null && o.multiplexedModelId == null) return;
  if (o.prefixKey != null) req.prefixKey = o.prefixKey;
  if (o.multiplexedModelId != null) req.multiplexedModelId = o.multiplexedModelId;
}

/** A call was sent to `replicaId`: when it names a model, the model is (being) loaded there. */
export function modelRouted(router: RequestRouter | null, req: PendingRequest, replicaId: string): void {
  if (req.multiplexedModelId !== undefined) modelSent(router, req, replicaId);
}
