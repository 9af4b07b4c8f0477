import { ConfigError } from "@tsserve/protocol";
import { describe, isPlainObject } from "@tsserve/protocol/internal";

/** Kwargs of the `ConsistentHash` router (`requestRouter: { class: "ConsistentHash", kwargs }`). */
export interface ConsistentHashOptions {
  /**
   * Points per replica on the ring. More points even out the share of sessions per replica at the
   * cost of a larger ring (memory and rebuild time grow linearly). An integer from 1 to
   * {@link MAX_NUM_VIRTUAL_NODES}.
   * @default 100
   */
  numVirtualNodes?: number;
  /**
   * Further distinct replicas (clockwise after the owner) to try when the owner is full. 0 means
   * strict affinity: a session waits for its owner. Must be an integer >= 0.
   * @default 2
   */
  numFallbackReplicas?: number;
  /**
   * Consistent hashing with bounded loads (Mirrokni et al.; HAProxy's `hash-balance-factor`): a
   * replica whose in-flight count, as this handle sees it, is already at
   * ⌈loadBound × (total in flight + 1) / replicas⌉ is passed over for the next one clockwise, so one
   * hot session cannot pin a replica while others idle. When too few replicas are under the bound,
   * the skipped ones follow in ring order. A number > 1 (e.g. 1.25); `null` or absent turns it off,
   * which is Ray's behaviour.
   *
   * Trade-off: at low load the bound is small (1 or 2), so even two concurrent requests of one
   * session may land on different replicas; and the bound cannot tell the hot session from the
   * other sessions its replica owns, which are pushed off it too.
   * @default null
   */
  loadBound?: number | null;
  /**
   * Owner patience, in milliseconds: a call of a session whose owner is full waits up to this long
   * for a slot on the owner before its fallback ranks may take it (in order). An owner that is
   * dead, draining or gone spills at once. 0 is Ray's behaviour (spill as soon as the owner is
   * full). The default is a few service times of a fast RPC and far below a slow one's: the
   * affinity bench (4 replicas × 4 slots, 300 sessions) keeps ≥ 99 % of calls on their owner at
   * 75 % load with it, where 0 sends a fifth of them to a fallback; a session's state or prefix
   * cache is worth that wait. Session-less calls never wait. An integer from 0 to 60000.
   * @default 100
   */
  spillAfterMs?: number;
}

/** Every ConsistentHash option present and validated. */
export interface ResolvedConsistentHashOptions {
  numVirtualNodes: number;
  numFallbackReplicas: number;
  /** `null` = no load bound. */
  loadBound: number | null;
  spillAfterMs: number;
}

/** Ray's default `num_virtual_nodes`. */
export const DEFAULT_NUM_VIRTUAL_NODES = 100;
/** Ray's default `num_fallback_replicas`. */
export const DEFAULT_NUM_FALLBACK_REPLICAS = 2;
/**
 * Upper limit of `numVirtualNodes`. Ray sets none; here a typo such as 1e9 would make every handle
 * try to build a ring of billions of points, so it is refused with a clear error instead.
 */
export const MAX_NUM_VIRTUAL_NODES = 100_000;
/** Default owner patience (see {@link ConsistentHashOptions.spillAfterMs}). */
export const DEFAULT_SPILL_AFTER_MS = 100;
/** Longest owner patience accepted: past a minute a call is better failed than parked. */
export const MAX_SPILL_AFTER_MS = 60_000;

const KNOWN_KWARGS = ["numVirtualNodes", "numFallbackReplicas", "loadBound", "spillAfterMs"] as const;
const PATH = "requestRouter.kwargs";

function bad(key: string, expected: string, value: unknown): never {
  throw new ConfigError(`ConsistentHash router: ${PATH}.${key} must be ${expected}, got ${describe(value)}`, {
    data: { path: `${PATH}.${key}`, kwarg: key },
  });
}

function intAtLeast(
  key: string,
  value: unknown,
  min: number,
  dflt: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    bad(
      key,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
      value,
    );
  }
  return value;
}

/**
 * Validates ConsistentHash kwargs once, at router construction, and fills in the defaults.
 * Throws a ConfigError naming the kwarg, the bad value and what is accepted.
 */
export function resolveConsistentHashOptions(kwargs: unknown): ResolvedConsistentHashOptions {
  const k = kwargs ?? {};
  if (!isPlainObject(k)) {
    throw new ConfigError(`ConsistentHash router: ${PATH} must be an object, got ${describe(k)}`, {
      data: { path: PATH },
    });
  }
  for (const key of Object.keys(k)) {
    if (!(KNOWN_KWARGS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `ConsistentHash router: unknown kwarg ${PATH}.${key} (value ${describe(k[key])}); known kwargs are ${KNOWN_KWARGS.join(", ")}`,
        { data: { path: `${PATH}.${key}`, kwarg: key } },
      );
    }
  }
  const loadBound = k["loadBound"] ?? null;
  if (
    loadBound !== null &&
    (typeof loadBound !== "number" || !Number.isFinite(loadBound) || loadBound <= 1)
  ) {
    bad("loadBound", "a number > 1 (e.g. 1.25) or null for no bound", loadBound);
  }
  return {
    numVirtualNodes: intAtLeast(
      "numVirtualNodes",
      k["numVirtualNodes"],
      1,
      DEFAULT_NUM_VIRTUAL_NODES,
      MAX_NUM_VIRTUAL_NODES,
    ),
    numFallbackReplicas: intAtLeast(
      "numFallbackReplicas",
      k["numFallbackReplicas"],
      0,
      DEFAULT_NUM_FALLBACK_REPLICAS,
    ),
    loadBound,
    spillAfterMs: intAtLeast(
      "spillAfterMs",
      k["spillAfterMs"],
      0,
      DEFAULT_SPILL_AFTER_MS,
      MAX_SPILL_AFTER_MS,
    ),
  };
}
