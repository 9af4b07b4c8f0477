import { ConfigError } from "@tsserve/protocol";
import {
  DEFAULT_HEALTH_CHECK_PERIOD_S,
  DEFAULT_HEALTH_CHECK_TIMEOUT_S,
  REPLICA_SPEC_ENV,
  checkResolvedConfig,
  checkResolvedSessionState,
  resolveShared,
  fail,
  intAtLeast,
  isPlainObject,
  nonEmptyString,
  numberAtLeast,
  validatePrefix,
  validateToken,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

const STRING_FIELDS = ["address", "importPath", "cwd", "codeVersion"] as const;
const TOKEN_FIELDS = ["app", "deployment", "replicaId", "nodeId"] as const;

/**
 * Parses and checks the `TSSERVE_REPLICA_SPEC` JSON an agent hands a replica process. Only the
 * fields the runtime relies on are checked; a ConfigError names the field, the value and what is
 * accepted.
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
  const path = REPLICA_SPEC_ENV;
  if (!isPlainObject(raw)) fail(path, "a JSON object (ReplicaSpec)", raw);
  for (const f of STRING_FIELDS) nonEmptyString(`${path}.${f}`, raw[f]);
  for (const f of TOKEN_FIELDS) validateToken(`${path}.${f}`, nonEmptyString(`${path}.${f}`, raw[f]));
  validatePrefix(nonEmptyString(`${path}.prefix`, raw["prefix"]));
  const config = raw["config"];
  if (!isPlainObject(config)) fail(`${path}.config`, "a resolved deployment config object", config);
  const flow = raw["streamFlow"];
  if (flow !== undefined) {
    if (!isPlainObject(flow)) fail(`${path}.streamFlow`, "an object", flow);
    const opt = (f: string, min: number): void => {
      if (flow[f] !== undefined) intAtLeast(`${path}.streamFlow.${f}`, flow[f], min);
    };
    opt("windowChunks", 1);
    opt("windowBytes", 1024);
    opt("creditTimeoutMs", 100);
  }
  // Specs written before health checks existed (or by hand in tests) get Ray's defaults.
  config["healthCheckPeriodMs"] ??= DEFAULT_HEALTH_CHECK_PERIOD_S * 1000;
  config["healthCheckTimeoutMs"] ??= DEFAULT_HEALTH_CHECK_TIMEOUT_S * 1000;
  numberAtLeast(`${path}.config.healthCheckPeriodMs`, config["healthCheckPeriodMs"], 0, true);
  numberAtLeast(`${path}.config.healthCheckTimeoutMs`, config["healthCheckTimeoutMs"], 0, true);
  checkResolvedConfig(`${path}.config`, config);
  config["sessionState"] = checkResolvedSessionState(`${path}.config.sessionState`, config["sessionState"]);
  config["shared"] = resolveShared(`${path}.config.shared`, config["shared"]);
  if (raw["sessionBucket"] !== undefined) nonEmptyString(`${path}.sessionBucket`, raw["sessionBucket"]);
  for (const f of ["generation", "parentPid", "fenceAfterMs"] as const) {
    if (raw[f] !== undefined) numberAtLeast(`${path}.${f}`, raw[f], 0);
  }
  return raw as unknown as ReplicaSpec;
}
