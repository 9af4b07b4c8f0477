import { getRequestContext } from "../context.js";
import type { ModelCache } from "./model-cache.js";

const SLOT = Symbol.for("tsserve.replica.models");
type Slot = { [SLOT]?: ModelCache };

/** Runtime only: the replica's model cache (one per process). */
export function setModelCache(cache: ModelCache): void {
  (globalThis as Slot)[SLOT] = cache;
}

/**
 * The model id of the call being served (Ray's `serve.get_multiplexed_model_id()`): what the
 * caller set with `handle.options({ multiplexedModelId })`, the HTTP header
 * `serve_multiplexed_model_id` or the gRPC metadata `multiplexed_model_id`; "" when none (as Ray).
 */
export function getMultiplexedModelId(): string {
  return getRequestContext()?.multiplexedModelId ?? "";
}

/**
 * The loaded model of the call being served (what `loadModel(modelId)` returned), or undefined
 * outside a call, without a model id, or on a deployment that is not multiplexed. The replica
 * loads it before the method runs, so inside the method it is there.
 */
export function getMultiplexedModel<M = unknown>(): M | undefined {
  const id = getRequestContext()?.multiplexedModelId;
  if (id === undefined) return undefined;
  return (globalThis as Slot)[SLOT]?.peek(id) as M | undefined;
}
