import { validateToken } from "./subjects.js";
import { fail, intAtLeast, isPlainObject, noUnknownKeys, nonEmptyString, numberAtLeast } from "./validate.js";

/** Which router a deployment's handles use: a built-in name or a module path `./file.ts#Export`. */
export interface RequestRouterConfig {
  /** `"PowerOfTwoChoices"`, `"ConsistentHash"`, or `"./path/to/module.ts#ExportName"`. @default "PowerOfTwoChoices" */
  class: string;
  /** JSON-serialisable options passed to the router's constructor. @default {} */
  kwargs?: Record<string, unknown>;
}

/** Ray Serve's default autoscaling policy. */
export interface AutoscalingOptions {
  /** @default 1 */
  minReplicas?: number;
  /** @default 1 */
  maxReplicas?: number;
  /** Replicas to start with. @default minReplicas */
  initialReplicas?: number;
  /** Ongoing requests per replica the policy aims for. @default 2 */
  targetOngoingRequests?: number;
  /** How long load must stay high before scaling up. @default 30 */
  upscaleDelayS?: number;
  /** How long load must stay low before scaling down. @default 600 */
  downscaleDelayS?: number;
  /** Window over which load metrics are averaged. @default 30 */
  lookBackPeriodS?: number;
}

/** Options of `deployment(options)` and of a deployment entry in serve.yaml. */
export interface DeploymentOptions {
  /** @default the class name */
  name?: string;
  /** Fixed replica count; ignored when `autoscalingConfig` is set. @default 1 */
  numReplicas?: number;
  /** A replica rejects work beyond this many concurrent requests. @default 5 */
  maxOngoingRequests?: number;
  /** A handle raises BackPressureError beyond this many pending requests; -1 = unlimited. @default -1 */
  maxQueuedRequests?: number;
  /** @default { class: "PowerOfTwoChoices" } */
  requestRouter?: RequestRouterConfig;
  autoscalingConfig?: AutoscalingOptions;
  /** Force-stop a draining replica after this long. @default 20 */
  gracefulShutdownTimeoutS?: number;
  /** A draining replica waits this long for routers to see it leave before it stops accepting. @default 2 */
  gracefulShutdownWaitLoopS?: number;
  /** Replica heartbeat period. @default 1 */
  heartbeatPeriodS?: number;
  /** A replica silent for this long is presumed lost. @default 5 */
  heartbeatTimeoutS?: number;
  /**
   * Methods that are safe to run more than once. A call to one of them whose replica dies (or
   * becomes unreachable) while running it is retried on another replica, a session's next rank,
   * instead of failing with ReplicaDiedError. `true` = every method; a list names methods
   * (`"__call__"` for the default one). Calls a replica never accepted are retried whatever this
   * says. @default false
   */
  idempotent?: boolean | string[];
  /** How often an idempotent call is retried after replica deaths (backoff 25 ms doubling). @default 3 */
  maxRetries?: number;
  /**
   * A replica not READY (constructor and `initialize()` done) this long after its start request
   * fails the deployment at once: a hanging constructor is not retried (DEPLOY_FAILED). @default 60
   */
  startupTimeoutS?: number;
  /** How often a RUNNING replica calls the class's optional `checkHealth()` method. @default 10 */
  healthCheckPeriodS?: number;
  /** A `checkHealth()` call slower than this counts as failed, like one that throws. @default 30 */
  healthCheckTimeoutS?: number;
  /**
   * Model multiplexing (Ray's `@serve.multiplexed`): each replica holds up to
   * `maxModelsPerReplica` models, loaded on first use by the class's `loadModel(modelId)` (async,
   * may take seconds; concurrent first calls of one model load it once) and evicted least recently
   * used through its optional `unloadModel(modelId, model)`. Calls name their model with
   * `handle.options({ multiplexedModelId })` or the HTTP header `serve_multiplexed_model_id`.
   * @default undefined (not multiplexed)
   */
  multiplexed?: MultiplexedOptions;
}

/** Options of a multiplexed deployment. */
export interface MultiplexedOptions {
  /** Models one replica holds at once (Ray's `max_num_models_per_replica`). @default 3 */
  maxModelsPerReplica?: number;
}

/** Ray's default `max_num_models_per_replica`. */
export const DEFAULT_MAX_MODELS_PER_REPLICA = 3;

export const DEFAULT_MAX_ONGOING_REQUESTS = 5;
export const DEFAULT_MAX_QUEUED_REQUESTS = -1;
export const DEFAULT_NUM_REPLICAS = 1;
export const DEFAULT_ROUTER_CLASS = "PowerOfTwoChoices";
export const DEFAULT_TARGET_ONGOING_REQUESTS = 2;
export const DEFAULT_UPSCALE_DELAY_S = 30;
export const DEFAULT_DOWNSCALE_DELAY_S = 600;
export const DEFAULT_LOOK_BACK_PERIOD_S = 30;
export const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_S = 20;
export const DEFAULT_GRACEFUL_SHUTDOWN_WAIT_LOOP_S = 2;
export const DEFAULT_HEARTBEAT_PERIOD_S = 1;
export const DEFAULT_HEARTBEAT_TIMEOUT_S = 5;
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_STARTUP_TIMEOUT_S = 60;
/** Ray Serve's `health_check_period_s` default. */
export const DEFAULT_HEALTH_CHECK_PERIOD_S = 10;
/** Ray Serve's `health_check_timeout_s` default. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_S = 30;

/**
 * Lower bounds of the resolved (millisecond) config values a replica relies on: the one table used
 * by {@link resolveDeploymentOptions} (seconds in serve.yaml) and by every decoder of a ReplicaSpec
 * (agent start command, replica process), so the two can never disagree.
 */
export const CONFIG_BOUNDS = {
  maxOngoingRequests: { min: 1, integer: true },
  heartbeatPeriodMs: { min: 10, integer: false },
  heartbeatTimeoutMs: { min: 50, integer: false },
  gracefulShutdownWaitLoopMs: { min: 0, integer: false },
  gracefulShutdownTimeoutMs: { min: 0, integer: false },
} as const;

/** Checks a resolved config object against {@link CONFIG_BOUNDS}; ConfigError names `path.field`. */
export function checkResolvedConfig(path: string, config: Record<string, unknown>): void {
  for (const [field, b] of Object.entries(CONFIG_BOUNDS)) {
    if (b.integer) intAtLeast(`${path}.${field}`, config[field], b.min);
    else numberAtLeast(`${path}.${field}`, config[field], b.min);
  }
}

export interface ResolvedAutoscaling {
  minReplicas: number;
  maxReplicas: number;
  initialReplicas: number;
  targetOngoingRequests: number;
  upscaleDelayMs: number;
  downscaleDelayMs: number;
  lookBackPeriodMs: number;
}

/** Every option present, validated, durations in milliseconds. */
export interface ResolvedDeploymentConfig {
  name: string;
  numReplicas: number;
  maxOngoingRequests: number;
  maxQueuedRequests: number;
  requestRouter: Required<RequestRouterConfig>;
  autoscaling: ResolvedAutoscaling | null;
  gracefulShutdownTimeoutMs: number;
  gracefulShutdownWaitLoopMs: number;
  heartbeatPeriodMs: number;
  heartbeatTimeoutMs: number;
  /** `true`, or the idempotent method names (empty: none). */
  idempotent: boolean | string[];
  maxRetries: number;
  startupTimeoutMs: number;
  healthCheckPeriodMs: number;
  healthCheckTimeoutMs: number;
  /** Present for multiplexed deployments only. */
  multiplexed?: { maxModelsPerReplica: number };
}

const DEPLOYMENT_KEYS = [
  "name",
  "numReplicas",
  "maxOngoingRequests",
  "maxQueuedRequests",
  "requestRouter",
  "autoscalingConfig",
  "gracefulShutdownTimeoutS",
  "gracefulShutdownWaitLoopS",
  "heartbeatPeriodS",
  "heartbeatTimeoutS",
  "startupTimeoutS",
  "healthCheckPeriodS",
  "healthCheckTimeoutS",
  "idempotent",
  "maxRetries",
  "multiplexed",
] as const;

const AUTOSCALING_KEYS = [
  "minReplicas",
  "maxReplicas",
  "initialReplicas",
  "targetOngoingRequests",
  "upscaleDelayS",
  "downscaleDelayS",
  "lookBackPeriodS",
] as const;

export function resolveRouterConfig(path: string, value: unknown): Required<RequestRouterConfig> {
  if (value === undefined) return { class: DEFAULT_ROUTER_CLASS, kwargs: {} };
  if (!isPlainObject(value)) fail(path, "an object { class, kwargs }", value);
  noUnknownKeys(path, value, ["class", "kwargs"]);
  const cls = nonEmptyString(`${path}.class`, value["class"]);
  const kwargs = value["kwargs"] ?? {};
  if (!isPlainObject(kwargs)) fail(`${path}.kwargs`, "an object", kwargs);
  return { class: cls, kwargs };
}

function resolveAutoscaling(path: string, value: unknown): ResolvedAutoscaling | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) fail(path, "an object", value);
  noUnknownKeys(path, value, AUTOSCALING_KEYS);
  const minReplicas = value["minReplicas"] ?? 1;
  const s = (key: string, dflt: number): number =>
    numberAtLeast(`${path}.${key}`, value[key] ?? dflt, 0) * 1000;
  return {
    ...replicaRange(
      path,
      minReplicas,
      value["maxReplicas"] ?? (typeof minReplicas === "number" ? Math.max(1, minReplicas) : 1),
      value["initialReplicas"] ?? minReplicas,
    ),
    targetOngoingRequests: numberAtLeast(
      `${path}.targetOngoingRequests`,
      value["targetOngoingRequests"] ?? DEFAULT_TARGET_ONGOING_REQUESTS,
      0,
      true,
    ),
    upscaleDelayMs: s("upscaleDelayS", DEFAULT_UPSCALE_DELAY_S),
    downscaleDelayMs: s("downscaleDelayS", DEFAULT_DOWNSCALE_DELAY_S),
    lookBackPeriodMs: s("lookBackPeriodS", DEFAULT_LOOK_BACK_PERIOD_S),
  };
}

/** min ≥ 0, max ≥ max(1, min), min ≤ initial ≤ max: the same rule for user options and the wire. */
function replicaRange(
  path: string,
  min: unknown,
  max: unknown,
  initial: unknown,
): Pick<ResolvedAutoscaling, "minReplicas" | "maxReplicas" | "initialReplicas"> {
  const minReplicas = intAtLeast(`${path}.minReplicas`, min, 0);
  const maxReplicas = intAtLeast(`${path}.maxReplicas`, max, 1);
  if (maxReplicas < minReplicas)
    fail(`${path}.maxReplicas`, `a value >= minReplicas (${minReplicas})`, maxReplicas);
  const initialReplicas = intAtLeast(`${path}.initialReplicas`, initial, 0);
  if (initialReplicas < minReplicas || initialReplicas > maxReplicas) {
    fail(`${path}.initialReplicas`, `a value between minReplicas and maxReplicas`, initialReplicas);
  }
  return { minReplicas, maxReplicas, initialReplicas };
}

/**
 * Checks a ResolvedAutoscaling that crossed the wire (the controller trusts nothing): the replica
 * range as {@link resolveDeploymentOptions} checks it, delays already in milliseconds.
 */
export function checkResolvedAutoscaling(path: string, v: unknown): ResolvedAutoscaling | null {
  if (v === null || v === undefined) return null;
  if (!isPlainObject(v)) fail(path, "null or a resolved autoscaling object", v);
  return {
    ...replicaRange(path, v["minReplicas"], v["maxReplicas"], v["initialReplicas"]),
    targetOngoingRequests: numberAtLeast(
      `${path}.targetOngoingRequests`,
      v["targetOngoingRequests"],
      0,
      true,
    ),
    upscaleDelayMs: numberAtLeast(`${path}.upscaleDelayMs`, v["upscaleDelayMs"], 0),
    downscaleDelayMs: numberAtLeast(`${path}.downscaleDelayMs`, v["downscaleDelayMs"], 0),
    lookBackPeriodMs: numberAtLeast(`${path}.lookBackPeriodMs`, v["lookBackPeriodMs"], 0),
  };
}

/**
 * Validates deployment options once and fills in every default. `path` prefixes error messages
 * (e.g. `applications[0].deployments[1]`). Router kwargs are validated later by the router itself.
 */
export function resolveDeploymentOptions(
  options: unknown,
  defaultName?: string,
  path = "deployment",
): ResolvedDeploymentConfig {
  const o = options ?? {};
  if (!isPlainObject(o)) fail(path, "an object of deployment options", o);
  noUnknownKeys(path, o, DEPLOYMENT_KEYS);
  const name = nonEmptyString(`${path}.name`, o["name"] ?? defaultName);
  validateToken(`${path}.name`, name);
  const maxQueuedRequests = o["maxQueuedRequests"] ?? DEFAULT_MAX_QUEUED_REQUESTS;
  if (maxQueuedRequests !== -1) intAtLeast(`${path}.maxQueuedRequests`, maxQueuedRequests, 1);
  const autoscaling = resolveAutoscaling(`${path}.autoscalingConfig`, o["autoscalingConfig"]);
  const ms = (key: string, dflt: number, min = 0): number =>
    numberAtLeast(`${path}.${key}`, o[key] ?? dflt, min) * 1000;
  return {
    name,
    numReplicas: autoscaling
      ? autoscaling.initialReplicas
      : intAtLeast(`${path}.numReplicas`, o["numReplicas"] ?? DEFAULT_NUM_REPLICAS, 0),
    maxOngoingRequests: intAtLeast(
      `${path}.maxOngoingRequests`,
      o["maxOngoingRequests"] ?? DEFAULT_MAX_ONGOING_REQUESTS,
      CONFIG_BOUNDS.maxOngoingRequests.min,
    ),
    maxQueuedRequests: maxQueuedRequests as number,
    requestRouter: resolveRouterConfig(`${path}.requestRouter`, o["requestRouter"]),
    autoscaling,
    gracefulShutdownTimeoutMs: ms(
      "gracefulShutdownTimeoutS",
      DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_S,
      CONFIG_BOUNDS.gracefulShutdownTimeoutMs.min / 1000,
    ),
    gracefulShutdownWaitLoopMs: ms(
      "gracefulShutdownWaitLoopS",
      DEFAULT_GRACEFUL_SHUTDOWN_WAIT_LOOP_S,
      CONFIG_BOUNDS.gracefulShutdownWaitLoopMs.min / 1000,
    ),
    heartbeatPeriodMs: ms(
      "heartbeatPeriodS",
      DEFAULT_HEARTBEAT_PERIOD_S,
      CONFIG_BOUNDS.heartbeatPeriodMs.min / 1000,
    ),
    heartbeatTimeoutMs: ms(
      "heartbeatTimeoutS",
      DEFAULT_HEARTBEAT_TIMEOUT_S,
      CONFIG_BOUNDS.heartbeatTimeoutMs.min / 1000,
    ),
    idempotent: resolveIdempotent(`${path}.idempotent`, o["idempotent"]),
    maxRetries: intAtLeast(`${path}.maxRetries`, o["maxRetries"] ?? DEFAULT_MAX_RETRIES, 0),
    startupTimeoutMs: ms("startupTimeoutS", DEFAULT_STARTUP_TIMEOUT_S, 0.1),
    healthCheckPeriodMs: ms("healthCheckPeriodS", DEFAULT_HEALTH_CHECK_PERIOD_S, 0.05),
    healthCheckTimeoutMs: ms("healthCheckTimeoutS", DEFAULT_HEALTH_CHECK_TIMEOUT_S, 0.05),
    ...resolveMultiplexed(`${path}.multiplexed`, o["multiplexed"]),
  };
}

function resolveMultiplexed(path: string, v: unknown): { multiplexed?: { maxModelsPerReplica: number } } {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) fail(path, "an object { maxModelsPerReplica }", v);
  noUnknownKeys(path, v, ["maxModelsPerReplica"]);
  const max = v["maxModelsPerReplica"] ?? DEFAULT_MAX_MODELS_PER_REPLICA;
  return { multiplexed: { maxModelsPerReplica: intAtLeast(`${path}.maxModelsPerReplica`, max, 1) } };
}

/** `idempotent`: a boolean, or a list of method names (each a non-empty string). */
export function resolveIdempotent(path: string, value: unknown): boolean | string[] {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (!Array.isArray(value)) fail(path, "true, false or a list of method names", value);
  return value.map((m, i) => nonEmptyString(`${path}[${i}]`, m));
}
