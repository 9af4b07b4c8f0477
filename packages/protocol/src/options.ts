import {
  resolveSessionState,
  resolveShared,
  type ResolvedSessionState,
  type SessionStateOptions,
} from "./session-options.js";
import { validateToken } from "./subjects.js";
import {
  AUTOSCALING_BOUNDS,
  CONFIG_BOUNDS,
  resolveBoundedFields,
  userKey,
  type ConfigBound,
  type NumberFields,
} from "./config-bounds.js";
import { fail, intAtLeast, isPlainObject, noUnknownKeys, nonEmptyString } from "./validate.js";

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
   * Per-session state (`getSessionState()`) with one owner replica per session at a time: the
   * session's calls run on its owner, one at a time in arrival order (see `shared`), and its state
   * follows it through scaling, drains and rolling updates (`durable`: through crashes too). A
   * stateful deployment's router defaults to ConsistentHash. @default undefined (stateless)
   */
  sessionState?: SessionStateOptions;
  /**
   * With `sessionState`: methods that may run while other calls of the same session run (reads).
   * Every other call of one session runs alone, in arrival order. `true` = every method.
   * @default false
   */
  shared?: boolean | string[];
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

/** The user-facing defaults (seconds where the option ends in `S`): the bounds table holds them. */
const D = CONFIG_BOUNDS;
const A = AUTOSCALING_BOUNDS;
export const DEFAULT_MAX_ONGOING_REQUESTS = D.maxOngoingRequests.default;
export const DEFAULT_MAX_QUEUED_REQUESTS = D.maxQueuedRequests.default;
export const DEFAULT_NUM_REPLICAS = D.numReplicas.default;
export const DEFAULT_ROUTER_CLASS = "PowerOfTwoChoices";
export const DEFAULT_TARGET_ONGOING_REQUESTS = A.targetOngoingRequests.default;
export const DEFAULT_UPSCALE_DELAY_S = A.upscaleDelayMs.default / 1000;
export const DEFAULT_DOWNSCALE_DELAY_S = A.downscaleDelayMs.default / 1000;
export const DEFAULT_LOOK_BACK_PERIOD_S = A.lookBackPeriodMs.default / 1000;
export const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_S = D.gracefulShutdownTimeoutMs.default / 1000;
export const DEFAULT_GRACEFUL_SHUTDOWN_WAIT_LOOP_S = D.gracefulShutdownWaitLoopMs.default / 1000;
export const DEFAULT_HEARTBEAT_PERIOD_S = D.heartbeatPeriodMs.default / 1000;
export const DEFAULT_HEARTBEAT_TIMEOUT_S = D.heartbeatTimeoutMs.default / 1000;
export const DEFAULT_MAX_RETRIES = D.maxRetries.default;
export const DEFAULT_STARTUP_TIMEOUT_S = D.startupTimeoutMs.default / 1000;
/** Ray Serve's `health_check_period_s` default. */
export const DEFAULT_HEALTH_CHECK_PERIOD_S = D.healthCheckPeriodMs.default / 1000;
/** Ray Serve's `health_check_timeout_s` default. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_S = D.healthCheckTimeoutMs.default / 1000;

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
  /** null = stateless (no per-call session work at all). Absent from older specs: null. */
  sessionState?: ResolvedSessionState | null;
  /** With sessionState: methods that run beside the session's other calls (`true` = all). */
  shared?: boolean | string[];
  /** Present for multiplexed deployments only. */
  multiplexed?: { maxModelsPerReplica: number };
}

/** Every bound number under its user name (`…S` for `…Ms`), plus the options that are not numbers. */
const DEPLOYMENT_KEYS = [
  ...Object.keys(CONFIG_BOUNDS).map(userKey),
  "name",
  "requestRouter",
  "autoscalingConfig",
  "idempotent",
  "sessionState",
  "shared",
  "multiplexed",
];

const AUTOSCALING_KEYS = Object.keys(AUTOSCALING_BOUNDS).map(userKey);

// Compile-time: every number of the resolved types has a row in its bounds table.
const CONFIG_ROWS: Record<NumberFields<ResolvedDeploymentConfig>, ConfigBound> = CONFIG_BOUNDS;
const AUTOSCALING_ROWS: Record<NumberFields<ResolvedAutoscaling>, ConfigBound> = AUTOSCALING_BOUNDS;

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
  // Replica counts default from minReplicas, not from the table.
  const min = value["minReplicas"] ?? A.minReplicas.default;
  const max = value["maxReplicas"] ?? (typeof min === "number" ? Math.max(1, min) : 1);
  const counts = { minReplicas: min, maxReplicas: max, initialReplicas: value["initialReplicas"] ?? min };
  const resolved = resolveBoundedFields(path, { ...value, ...counts }, AUTOSCALING_ROWS);
  checkReplicaRange(path, resolved);
  return resolved;
}

/** min ≤ max, min ≤ initial ≤ max (each already bounded): the same rule for user options and the wire. */
export function checkReplicaRange(
  path: string,
  r: Pick<ResolvedAutoscaling, "minReplicas" | "maxReplicas" | "initialReplicas">,
): void {
  if (r.maxReplicas < r.minReplicas)
    fail(`${path}.maxReplicas`, `a value >= minReplicas (${r.minReplicas})`, r.maxReplicas);
  if (r.initialReplicas < r.minReplicas || r.initialReplicas > r.maxReplicas) {
    fail(`${path}.initialReplicas`, `a value between minReplicas and maxReplicas`, r.initialReplicas);
  }
}

/**
 * Validates deployment options once and fills in every default. `path` prefixes error messages
 * (e.g. `applications[0].deployments[1]`). Every number is checked against {@link CONFIG_BOUNDS},
 * the table the wire decoders use. Router kwargs are validated later by the router itself.
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
  const autoscaling = resolveAutoscaling(`${path}.autoscalingConfig`, o["autoscalingConfig"]);
  const numbers = resolveBoundedFields(path, o, CONFIG_ROWS);
  const sessionState = resolveSessionState(`${path}.sessionState`, o["sessionState"]);
  // A stateful deployment's calls run on their session's owner: the ring keeps them there, so
  // replicas rarely forward. Another router still works (a non-owner forwards), one hop slower.
  const router =
    o["requestRouter"] === undefined && sessionState !== null
      ? { class: "ConsistentHash" }
      : o["requestRouter"];
  return {
    ...numbers,
    name,
    numReplicas: autoscaling ? autoscaling.initialReplicas : numbers.numReplicas,
    requestRouter: resolveRouterConfig(`${path}.requestRouter`, router),
    autoscaling,
    idempotent: resolveIdempotent(`${path}.idempotent`, o["idempotent"]),
    sessionState,
    shared: resolveShared(`${path}.shared`, o["shared"]),
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
