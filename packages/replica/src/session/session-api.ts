import { SessionStateError } from "@tsserve/protocol";
import type { RequestContext } from "../context.js";

/**
 * How the replica running this call came to hold the session:
 * - `"new"`: the session had no state anywhere (its first call, or its state expired or was deleted);
 * - `"restored"`: its state came from its previous owner (a hand-off, a drain) or from the durable store;
 * - `"lost"`: its previous owner died holding it in memory (`mode: "memory"`): its state is gone.
 */
export type SessionOrigin = "new" | "restored" | "lost";

/** The calling session's state, what {@link getSessionState} returns inside a session call. */
export interface SessionState<T> {
  /** The session id. */
  readonly sessionId: string;
  /** How this replica came to hold the session (see {@link SessionOrigin}); fixed until it moves. */
  readonly origin: SessionOrigin;
  /** Shorthand for `origin === "lost"`: a crash lost this session's state. */
  readonly lost: boolean;
  /** The last value `set()` stored, or undefined. Mutating it stores nothing: call `set()` again. */
  get(): T | undefined;
  /**
   * Stores `value` (plain data: what the wire codec carries). It is checked at once: a value the
   * codec cannot encode is a BadRequestError naming the path, one over `maxBytes` a
   * SessionStateError; either way the previous state is kept. `durable`: written to the KV bucket
   * before this call's reply is sent.
   */
  set(value: T): void;
  /** Forgets the state (`get()` returns undefined); `durable`: removed from the store before the reply. */
  delete(): void;
}

/** What the runtime of a stateful deployment registers: the state of the session of one call. */
export interface SessionStateProvider {
  stateOf(req: RequestContext): SessionState<unknown> | undefined;
}

interface SessionSlotGlobal {
  provider: SessionStateProvider | undefined;
  requests: (() => RequestContext | undefined) | undefined;
}

// On globalThis under a registry symbol, like the replica context: user code importing another
// copy of this package (the `tsserve` facade) sees the provider the runtime set.
const KEY = Symbol.for("tsserve.replica.sessions");

function slot(): SessionSlotGlobal {
  const g = globalThis as { [KEY]?: SessionSlotGlobal };
  return (g[KEY] ??= { provider: undefined, requests: undefined });
}

/** Runtime only: makes `getSessionState()` answer for this replica's stateful deployment. */
export function setSessionStateProvider(
  provider: SessionStateProvider,
  requests: () => RequestContext | undefined,
): void {
  const s = slot();
  s.provider = provider;
  s.requests = requests;
}

/**
 * The state of the session the current call belongs to (`handle.options({ sessionId })`, HTTP
 * `x-session-id`). Call it inside a method of a deployment declared with `sessionState`; anywhere
 * else (constructor, timers, a call without a session id, a stateless deployment) it throws a
 * SessionStateError that says why.
 *
 * ```ts
 * const s = getSessionState<string[]>();
 * const history = s.get() ?? [];
 * s.set([...history, msg]);
 * ```
 */
export function getSessionState<T = unknown>(): SessionState<T> {
  const s = slot();
  const req = s.requests?.();
  if (s.provider === undefined) {
    throw new SessionStateError(
      'getSessionState(): this deployment has no sessionState; declare deployment({ sessionState: { mode: "memory" } }) (or "durable")',
      { data: { reason: "stateless" } },
    );
  }
  if (req === undefined) {
    throw new SessionStateError(
      "getSessionState() called outside a call: call it from a deployment method while it serves a request",
      { data: { reason: "outside-call" } },
    );
  }
  if (req.sessionId === null) {
    throw new SessionStateError(
      `getSessionState(): call ${req.requestId} (${req.method}) has no session id; call with handle.options({ sessionId }) or HTTP header x-session-id`,
      { data: { reason: "no-session" } },
    );
  }
  const state = s.provider.stateOf(req);
  if (state === undefined) {
    throw new SessionStateError(
      `getSessionState(): session ${JSON.stringify(req.sessionId)} is not held by this call (called after the call ended?)`,
      { data: { reason: "not-held" } },
    );
  }
  return state as SessionState<T>;
}
