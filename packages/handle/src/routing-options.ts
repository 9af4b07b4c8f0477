import { ConfigError } from "@tsserve/protocol";
import { checkMultiplexedModelId } from "@tsserve/protocol/internal";
import type { SubmitOptions } from "./dispatch/types.js";
import type { HandleCallOptions } from "./options.js";

/**
 * Validates and merges the call options for LLM-style routing (`prefixKey`, `multiplexedModelId`)
 * into `next`. Kept apart from the other options so handles that never use them pay nothing.
 */
export function routingOptions(next: SubmitOptions, o: HandleCallOptions): void {
  if (o.prefixKey !== undefined) {
    if (o.prefixKey !== null && typeof o.prefixKey !== "string") {
      throw new ConfigError(`options.prefixKey must be a string or null, got ${typeof o.prefixKey}`);
    }
    next.prefixKey = o.prefixKey;
  }
  if (o.multiplexedModelId !== undefined) {
    next.multiplexedModelId =
      o.multiplexedModelId === null
        ? null
        : checkMultiplexedModelId(o.multiplexedModelId, "options.multiplexedModelId");
  }
}
