import { AUTOSCALING_BOUNDS, CONFIG_BOUNDS, checkBoundedFields } from "./config-bounds.js";
import type { ReplicaSpec, RoutingConfig } from "./control-plane.js";
import {
  checkReplicaRange,
  resolveIdempotent,
  resolveRouterConfig,
  type ResolvedAutoscaling,
  type ResolvedDeploymentConfig,
} from "./options.js";
import { checkResolvedSessionState, resolveShared } from "./session-options.js";
import { validatePrefix, validateToken } from "./subjects.js";
import { fail, intAtLeast, isPlainObject, nonEmptyString, numberAtLeast } from "./validate.js";

/**
 * The one decoder of each config-carrying message: a {@link ResolvedDeploymentConfig} (in a deploy
 * request, a start command and a replica's spec), its autoscaling part, a {@link ReplicaSpec} and
 * the routing part of a membership snapshot. Each throws a ConfigError naming `path.field`, the
 * value and what is accepted; a reader on the wire turns it into its BAD_REQUEST.
 */

/** Joins a path and a field (`""` + `replicaId` = `replicaId`). */
function at(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}

/** A resolved autoscaling object from the wire (`null`: fixed replica count). */
export function decodeResolvedAutoscaling(path: string, v: unknown): ResolvedAutoscaling | null {
  if (v === null || v === undefined) return null;
  if (!isPlainObject(v)) fail(path, "null or a resolved autoscaling object", v);
  const resolved = checkBoundedFields(path, v, AUTOSCALING_BOUNDS);
  checkReplicaRange(path, resolved);
  return resolved;
}

/**
 * A resolved deployment config from the wire: every number against {@link CONFIG_BOUNDS} (a field
 * newer than the wire format may be absent and gets its default), the rest by its own rule. Builds
 * a fresh object: fields the type does not name are dropped, never passed on.
 */
export function decodeResolvedConfig(path: string, v: unknown): ResolvedDeploymentConfig {
  if (!isPlainObject(v)) fail(path, "a resolved deployment config object", v);
  return {
    ...checkBoundedFields(path, v, CONFIG_BOUNDS),
    name: validateToken(at(path, "name"), nonEmptyString(at(path, "name"), v["name"])),
    requestRouter: resolveRouterConfig(at(path, "requestRouter"), v["requestRouter"]),
    autoscaling: decodeResolvedAutoscaling(at(path, "autoscaling"), v["autoscaling"]),
    idempotent: resolveIdempotent(at(path, "idempotent"), v["idempotent"]),
    // Absent from a sender older than session state: a stateless deployment.
    sessionState: checkResolvedSessionState(at(path, "sessionState"), v["sessionState"]),
    shared: resolveShared(at(path, "shared"), v["shared"]),
    // Absent for deployments that are not multiplexed.
    ...decodeMultiplexed(at(path, "multiplexed"), v["multiplexed"]),
  };
}

function decodeMultiplexed(path: string, v: unknown): { multiplexed?: { maxModelsPerReplica: number } } {
  if (v === undefined) return {};
  if (!isPlainObject(v)) fail(path, "an object { maxModelsPerReplica }", v);
  return {
    multiplexed: {
      maxModelsPerReplica: intAtLeast(at(path, "maxModelsPerReplica"), v["maxModelsPerReplica"], 1),
    },
  };
}

/**
 * The routing part of a membership snapshot (handles route with it): its numbers against the same
 * {@link CONFIG_BOUNDS} rows as the deployment's config.
 */
export function decodeRoutingConfig(path: string, v: unknown): RoutingConfig {
  if (!isPlainObject(v)) fail(path, "a routing config object", v);
  const { maxOngoingRequests, maxQueuedRequests, maxRetries } = CONFIG_BOUNDS;
  return {
    ...checkBoundedFields(path, v, { maxOngoingRequests, maxQueuedRequests, maxRetries }),
    requestRouter: resolveRouterConfig(at(path, "requestRouter"), v["requestRouter"]),
    idempotent: resolveIdempotent(at(path, "idempotent"), v["idempotent"]),
    // Multiplexed deployments only (absent from older controllers: the handle assumes Ray's 3).
    ...(v["maxModelsPerReplica"] === undefined
      ? {}
      : { maxModelsPerReplica: intAtLeast(at(path, "maxModelsPerReplica"), v["maxModelsPerReplica"], 1) }),
  };
}

const STRING_FIELDS = ["address", "importPath", "cwd", "codeVersion"] as const;
const TOKEN_FIELDS = ["app", "deployment", "replicaId", "nodeId"] as const;

/** Stream window overrides a spec may carry (tests, tuning): the smallest values that still flow. */
const STREAM_FLOW_MINIMA = { windowChunks: 1, windowBytes: 1024, creditTimeoutMs: 100 } as const;

/**
 * A {@link ReplicaSpec}: the agent's start command (`path` ""), the replica's
 * `TSSERVE_REPLICA_SPEC` (`path` "TSSERVE_REPLICA_SPEC"). Fields the type does not name are dropped.
 */
export function decodeReplicaSpec(path: string, v: Record<string, unknown>): ReplicaSpec {
  for (const f of STRING_FIELDS) nonEmptyString(at(path, f), v[f]);
  for (const f of TOKEN_FIELDS) validateToken(at(path, f), nonEmptyString(at(path, f), v[f]));
  const prefix = validatePrefix(nonEmptyString(at(path, "prefix"), v["prefix"]));
  const spec: ReplicaSpec = {
    address: v["address"] as string,
    prefix,
    app: v["app"] as string,
    deployment: v["deployment"] as string,
    replicaId: v["replicaId"] as string,
    nodeId: v["nodeId"] as string,
    importPath: v["importPath"] as string,
    cwd: v["cwd"] as string,
    config: decodeResolvedConfig(at(path, "config"), v["config"]),
    codeVersion: v["codeVersion"] as string,
  };
  const flow = v["streamFlow"];
  if (flow !== undefined) {
    if (!isPlainObject(flow)) fail(at(path, "streamFlow"), "an object", flow);
    spec.streamFlow = {};
    for (const [f, min] of Object.entries(STREAM_FLOW_MINIMA) as [
      keyof typeof STREAM_FLOW_MINIMA,
      number,
    ][]) {
      if (flow[f] !== undefined) spec.streamFlow[f] = intAtLeast(at(path, `streamFlow.${f}`), flow[f], min);
    }
  }
  if (v["sessionBucket"] !== undefined) {
    spec.sessionBucket = nonEmptyString(at(path, "sessionBucket"), v["sessionBucket"]);
  }
  for (const f of ["generation", "parentPid", "fenceAfterMs"] as const) {
    if (v[f] !== undefined) spec[f] = numberAtLeast(at(path, f), v[f], 0);
  }
  return spec;
}
