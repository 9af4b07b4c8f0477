import { checkMultiplexedModelId, MULTIPLEXED_MODEL_ID_HEADER } from "@tsserve/protocol/internal";
import type { SubmitOptions } from "@tsserve/handle/internal";
import { findSessionId, normalizeHeaderName } from "./session-header.js";

const NORMALIZED = normalizeHeaderName(MULTIPLEXED_MODEL_ID_HEADER);

/**
 * Reads Ray's `serve_multiplexed_model_id` header (case-insensitive, `_` and `-` alike, as the
 * session header) into the call's `multiplexedModelId`. A bad id is a BadRequestError (HTTP 400)
 * naming the header and the rule; no header leaves the options as they are.
 */
export function withModelId(options: SubmitOptions, rawHeaders: readonly string[]): void {
  const v = findSessionId(rawHeaders, NORMALIZED);
  if (v !== null)
    options.multiplexedModelId = checkMultiplexedModelId(v, `header ${MULTIPLEXED_MODEL_ID_HEADER}`);
}
