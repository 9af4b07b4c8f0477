import { BadRequestError, ProtocolError } from "./errors.js";

/** Longest multiplexed model id accepted (handle option, HTTP header, gRPC metadata). */
export const MAX_MULTIPLEXED_MODEL_ID_LENGTH = 200;
/** Ray's HTTP header naming the model of a call. */
export const MULTIPLEXED_MODEL_ID_HEADER = "serve_multiplexed_model_id";
/** The gRPC invocation metadata key naming the model of a call (Ray's). */
export const MULTIPLEXED_MODEL_ID_METADATA = "multiplexed_model_id";

// Control characters would break log lines and header round trips; the rest of Unicode is fine.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a multiplexed model id wherever one enters (handle option, HTTP header, gRPC metadata,
 * the replica's decoder) and returns it; throws a BadRequestError naming `where`, the value and the
 * rule: a non-empty string of at most {@link MAX_MULTIPLEXED_MODEL_ID_LENGTH} characters without
 * control characters.
 */
export function checkMultiplexedModelId(value: unknown, where: string): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > MAX_MULTIPLEXED_MODEL_ID_LENGTH ||
    CONTROL.test(value)
  ) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : typeof value;
    throw new BadRequestError(
      `${where} must be a non-empty string of at most ${MAX_MULTIPLEXED_MODEL_ID_LENGTH} characters without control characters, got ${shown}`,
      { data: { field: where, reason: "multiplexed-model-id" } },
    );
  }
  return value;
}

/** Most model ids one replica reports (heartbeat, membership): far above any sane `maxModelsPerReplica`. */
export const MAX_REPORTED_MODELS = 1024;

/** Decodes a replica's list of loaded model ids (heartbeat, membership); a ProtocolError names `what`. */
export function decodeModelIds(what: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length > MAX_REPORTED_MODELS) {
    throw new ProtocolError(`${what}: models: expected an array of at most ${MAX_REPORTED_MODELS} model ids`);
  }
  return v.map((m) => {
    try {
      return checkMultiplexedModelId(m, `${what}: models[]`);
    } catch (e) {
      throw new ProtocolError((e as Error).message);
    }
  });
}
