import { ConfigError } from "@tsserve/protocol";
import {
  REPLICA_SPEC_ENV,
  decodeReplicaSpec,
  fail,
  isPlainObject,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

/**
 * Parses and checks the `TSSERVE_REPLICA_SPEC` JSON an agent hands a replica process, with the
 * decoder the agent's start command uses (`decodeReplicaSpec`, bounds from `CONFIG_BOUNDS`); a
 * ConfigError names the field, the value and what is accepted.
 */
export function parseReplicaSpec(json: string | undefined): ReplicaSpec {
  if (json === undefined || json.length === 0) {
    throw new ConfigError(
      `${REPLICA_SPEC_ENV} is not set: replicas are started by startReplicaProcess(spec)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ConfigError(
      `${REPLICA_SPEC_ENV} is not valid JSON (${(e as Error).message}): ${json.slice(0, 200)}`,
    );
  }
  if (!isPlainObject(raw)) fail(REPLICA_SPEC_ENV, "a JSON object (ReplicaSpec)", raw);
  return decodeReplicaSpec(REPLICA_SPEC_ENV, raw);
}
