import { fail, intAtLeast, isPlainObject, noUnknownKeys, numberAtLeast } from "./validate.js";

/**
 * Where a stateful deployment keeps its sessions' state (`getSessionState()`):
 * - `"memory"`: in the owning replica's memory. Planned moves (scale, drain, rolling update)
 *   hand it to the next owner through the session's KV record; a crash loses the dead replica's
 *   sessions and their next call is told (`origin: "lost"`).
 * - `"durable"`: also written to the deployment's JetStream KV bucket before each reply that
 *   changed it, so a crash loses nothing that was answered.
 */
export type SessionStateMode = "memory" | "durable";

/**
 * What a replica does with a call of a session another replica owns when the call came to it
 * directly (ConsistentHash spilled it there after `spillAfterMs`, or the caller's membership view
 * was behind):
 * - `"wait"`: forward it to the owner, where it waits its turn (the owner's limit applies: a full
 *   owner refuses it and the caller tries again). The session never moves for load.
 * - `"move"`: take the session over here (the owner hands it off once its running call of the
 *   session ends) and run the call here, with its state. The owner forwards the session's next
 *   calls here for a few seconds, then its ring takes it back.
 * Measured by the bench's session-state suite (docs/design.md "Spilling"): when the owner is
 * full of *other* sessions' calls, "move" runs the call in a hand-off's time instead of the
 * owner's queue time; each move costs a hand-off out and one back, and cold caches (the class's
 * own state moves only through exportSession).
 */
export type SessionSpill = "wait" | "move";

/** `deployment({ sessionState })`: per-session state with one owner replica at a time. */
export interface SessionStateOptions {
  /** @default "memory" */
  mode?: SessionStateMode;
  /**
   * A session nobody called for this long is dropped by its owner (state and KV record deleted).
   * 0 = never. @default 0
   */
  ttlS?: number;
  /** Largest encoded state (msgpack bytes) `set()` accepts; larger is refused. @default 1048576 (1 MiB) */
  maxBytes?: number;
  /**
   * How long a call waits while its session moves between replicas before it fails with
   * SessionHandoffTimeoutError (retryable). @default 10
   */
  handoffTimeoutS?: number;
  /** A call of a session owned elsewhere that came here directly: see {@link SessionSpill}. @default "wait" */
  spill?: SessionSpill;
}

/** {@link SessionStateOptions} validated, durations in milliseconds. */
export interface ResolvedSessionState {
  mode: SessionStateMode;
  /** 0 = never expire. */
  ttlMs: number;
  maxBytes: number;
  handoffTimeoutMs: number;
  spill: SessionSpill;
}

export const DEFAULT_SESSION_MAX_BYTES = 1024 * 1024;
export const DEFAULT_SESSION_HANDOFF_TIMEOUT_S = 10;

const KEYS = ["mode", "ttlS", "maxBytes", "handoffTimeoutS", "spill"] as const;

function spillOf(path: string, value: unknown): SessionSpill {
  if (value === undefined) return "wait";
  if (value !== "wait" && value !== "move") fail(path, '"wait" or "move"', value);
  return value;
}

/** Validates `sessionState` (user options, seconds) once; undefined/null = a stateless deployment. */
export function resolveSessionState(path: string, value: unknown): ResolvedSessionState | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value))
    fail(path, 'an object { mode: "memory" | "durable", ttlS?, maxBytes?, handoffTimeoutS?, spill? }', value);
  noUnknownKeys(path, value, KEYS);
  const mode = value["mode"] ?? "memory";
  if (mode !== "memory" && mode !== "durable") fail(`${path}.mode`, '"memory" or "durable"', mode);
  return {
    mode,
    ttlMs: numberAtLeast(`${path}.ttlS`, value["ttlS"] ?? 0, 0) * 1000,
    maxBytes: intAtLeast(`${path}.maxBytes`, value["maxBytes"] ?? DEFAULT_SESSION_MAX_BYTES, 1),
    handoffTimeoutMs:
      numberAtLeast(
        `${path}.handoffTimeoutS`,
        value["handoffTimeoutS"] ?? DEFAULT_SESSION_HANDOFF_TIMEOUT_S,
        0,
        true,
      ) * 1000,
    spill: spillOf(`${path}.spill`, value["spill"]),
  };
}

/** Checks a {@link ResolvedSessionState} that crossed the wire (ReplicaSpec, deploy request). */
export function checkResolvedSessionState(path: string, v: unknown): ResolvedSessionState | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) fail(path, "null or a resolved sessionState object", v);
  const mode = v["mode"];
  if (mode !== "memory" && mode !== "durable") fail(`${path}.mode`, '"memory" or "durable"', mode);
  return {
    mode,
    ttlMs: numberAtLeast(`${path}.ttlMs`, v["ttlMs"], 0),
    maxBytes: intAtLeast(`${path}.maxBytes`, v["maxBytes"], 1),
    handoffTimeoutMs: numberAtLeast(`${path}.handoffTimeoutMs`, v["handoffTimeoutMs"], 0, true),
    // Absent from specs written before the option existed: the old behaviour.
    spill: spillOf(`${path}.spill`, v["spill"]),
  };
}

/** `shared`: `true` (every method) or a list of method names that may run beside the session's other calls. */
export function resolveShared(path: string, value: unknown): boolean | string[] {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (!Array.isArray(value)) fail(path, "true, false or a list of method names", value);
  return value.map((m, i) => {
    if (typeof m !== "string" || m.length === 0) fail(`${path}[${i}]`, "a method name", m);
    return m;
  });
}
