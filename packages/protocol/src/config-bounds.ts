import { fail } from "./validate.js";

/**
 * The bounds of every number in a deployment's config, in one table that every reader uses: the
 * user's options (seconds, `resolveDeploymentOptions`), the controller's deploy validation, the
 * agent's start command and the replica's spec (milliseconds, `decodeResolvedConfig`). A
 * number the first accepts can never be refused by the last.
 */
export interface ConfigBound {
  /** Smallest accepted value, in the resolved unit (milliseconds for a field ending in `Ms`). */
  readonly min: number;
  /** Only whole numbers. @default false */
  readonly integer?: boolean;
  /** `min` itself is refused: the value must be above it. @default false */
  readonly exclusive?: boolean;
  /** One more accepted value outside the range (`maxQueuedRequests: -1` = unlimited). */
  readonly sentinel?: number;
  /** The default, in the resolved unit. */
  readonly default: number;
  /**
   * The field was added after the wire format's first release: a deploy or spec from an older
   * sender may leave it out, and then gets the default. New fields set this. @default false
   */
  readonly optionalOnWire?: boolean;
}

/** The keys of `T` whose values are numbers: each must have a row in its bounds table. */
export type NumberFields<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];

/**
 * Every number of a ResolvedDeploymentConfig (options.ts). Adding a number to that type fails the
 * build until it has a row here; the row is all a new number needs (the readers, the user option
 * `…S` for `…Ms`, and the bound test in packages/tsserve/test/config-bounds.test.ts follow from it).
 */
export const CONFIG_BOUNDS = {
  numReplicas: { min: 0, integer: true, default: 1 },
  maxOngoingRequests: { min: 1, integer: true, default: 5 },
  maxQueuedRequests: { min: 1, integer: true, sentinel: -1, default: -1 },
  gracefulShutdownTimeoutMs: { min: 0, default: 20_000 },
  gracefulShutdownWaitLoopMs: { min: 0, default: 2000 },
  heartbeatPeriodMs: { min: 10, default: 1000 },
  heartbeatTimeoutMs: { min: 50, default: 5000 },
  maxRetries: { min: 0, integer: true, default: 3, optionalOnWire: true },
  startupTimeoutMs: { min: 100, default: 60_000, optionalOnWire: true },
  healthCheckPeriodMs: { min: 50, default: 10_000, optionalOnWire: true },
  healthCheckTimeoutMs: { min: 50, default: 30_000, optionalOnWire: true },
} as const satisfies Record<string, ConfigBound>;

/**
 * Every number of a ResolvedAutoscaling. Replica counts have no fixed default (they follow
 * `minReplicas`); the autoscaling object travels whole, so nothing in it is optional on the wire.
 */
export const AUTOSCALING_BOUNDS = {
  minReplicas: { min: 0, integer: true, default: 1 },
  maxReplicas: { min: 1, integer: true, default: 1 },
  initialReplicas: { min: 0, integer: true, default: 1 },
  targetOngoingRequests: { min: 0, exclusive: true, default: 2 },
  upscaleDelayMs: { min: 0, default: 30_000 },
  downscaleDelayMs: { min: 0, default: 600_000 },
  lookBackPeriodMs: { min: 0, default: 30_000 },
} as const satisfies Record<string, ConfigBound>;

/** Resolved (milliseconds) per user unit: a `…Ms` field is given in seconds as `…S`. */
export function userScale(field: string): number {
  return field.endsWith("Ms") ? 1000 : 1;
}

/** The user-facing option name of a resolved field: `heartbeatPeriodMs` → `heartbeatPeriodS`. */
export function userKey(field: string): string {
  return field.endsWith("Ms") ? `${field.slice(0, -2)}S` : field;
}

/**
 * Checks `value` against `bound`. `scale` is resolved units per unit of `value` (1000 for seconds
 * given for a millisecond field); the message names the bound in the unit of `value`.
 * Returns the value in the resolved unit.
 */
export function checkBound(path: string, value: unknown, bound: ConfigBound, scale = 1): number {
  // Compared in the caller's unit: min / 1000 is the same double as the literal a user writes.
  const min = bound.min / scale;
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (value === bound.sentinel ||
      ((!bound.integer || Number.isInteger(value)) && (bound.exclusive ? value > min : value >= min)));
  if (!ok) {
    const kind = bound.integer ? "an integer" : "a number";
    const or = bound.sentinel === undefined ? "" : `, or ${bound.sentinel}`;
    fail(path, `${kind} ${bound.exclusive ? ">" : ">="} ${min}${or}`, value);
  }
  // Rounded to a nanosecond so 0.29 s is 290 ms, not 289.99999999999994 (which a reader would refuse).
  return scale === 1 || value === bound.sentinel ? value : Math.round(value * scale * 1e6) / 1e6;
}

/** Checks every field of `table` in `obj` (a resolved object from the wire); absent optional ones get their default. */
export function checkBoundedFields<K extends string>(
  path: string,
  obj: Record<string, unknown>,
  table: Record<K, ConfigBound>,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const [field, b] of Object.entries(table) as [K, ConfigBound][]) {
    const v = obj[field] === undefined && b.optionalOnWire === true ? b.default : obj[field];
    out[field] = checkBound(`${path}.${field}`, v, b);
  }
  return out;
}

/** Resolves every field of `table` from user options (`…S` in seconds), filling in defaults. */
export function resolveBoundedFields<K extends string>(
  path: string,
  options: Record<string, unknown>,
  table: Record<K, ConfigBound>,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const [field, b] of Object.entries(table) as [K, ConfigBound][]) {
    const key = userKey(field);
    const scale = userScale(field);
    out[field] = checkBound(`${path}.${key}`, options[key] ?? b.default / scale, b, scale);
  }
  return out;
}
