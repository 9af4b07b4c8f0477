/**
 * Every error that crosses the wire carries one of these codes. The table is the single source of
 * truth: `retryable` says whether the same request may safely be sent again.
 */
export const ERROR_CODES = {
  /** The handle's own queue is full (`maxQueuedRequests`); nothing was sent. */
  BACK_PRESSURE: { retryable: true },
  /** The caller's deadline passed before a reply arrived. */
  TIMEOUT: { retryable: true },
  /** The caller cancelled the request (AbortSignal). */
  CANCELLED: { retryable: false },
  /** The replica running the request was lost; the request may or may not have run. */
  REPLICA_DIED: { retryable: false },
  /** No such application or deployment is known to the controller. */
  DEPLOYMENT_NOT_FOUND: { retryable: false },
  /** The deployment class has no such method. */
  METHOD_NOT_FOUND: { retryable: false },
  /** The deployment's own code threw. */
  USER_CODE: { retryable: false },
  /** A message that could not be decoded or has the wrong shape. */
  BAD_REQUEST: { retryable: false },
  /** A payload over the NATS server's max_payload. */
  PAYLOAD_TOO_LARGE: { retryable: false },
  /** The replica's reply (or a stream chunk) was over the NATS server's max_payload: the server's fault, not the caller's. */
  REPLY_TOO_LARGE: { retryable: false },
  /** Invalid configuration: deployment options, router kwargs, config files. */
  INVALID_CONFIG: { retryable: false },
  /** The controller (or another control-plane peer) could not be reached. */
  UNAVAILABLE: { retryable: true },
  /**
   * A session-state misuse: `getSessionState()` outside a session call or in a deployment without
   * `sessionState`, or a `set()` over `maxBytes` (refused; the previous state is kept).
   */
  SESSION_STATE: { retryable: false },
  /**
   * The replica running a session's call found it no longer owns the session (another replica
   * took it over: this one was fenced, partitioned or too slow). The call's state was not stored.
   */
  SESSION_OWNERSHIP_LOST: { retryable: false },
  /** The call waited longer than `handoffTimeoutS` for its session to move to this replica; it did not run. */
  SESSION_HANDOFF_TIMEOUT: { retryable: true },
  /**
   * A multiplexed deployment's `loadModel(modelId)` threw (or the replica is not multiplexed):
   * the call did not run. `data.modelId` names the model.
   */
  MODEL_LOAD_FAILED: { retryable: false },
  /** Anything else; the message says what. */
  INTERNAL: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
