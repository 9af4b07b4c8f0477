import { AsyncLocalStorage } from "node:async_hooks";
import { TsserveError, type HttpRequestInfo } from "@tsserve/protocol";

/** Where a replica runs; what `getReplicaContext()` returns inside a replica process. */
export interface ReplicaContext {
  /** The application this replica belongs to. */
  readonly appName: string;
  /** The deployment (class) this replica serves. */
  readonly deploymentName: string;
  /** Unique id of this replica; the routing key of ConsistentHash rings. */
  readonly replicaId: string;
  /** The agent (machine) hosting this replica. */
  readonly nodeId: string;
}

/** The request being served; what `getRequestContext()` returns inside a deployment method. */
export interface RequestContext {
  /** Unique per request. */
  readonly requestId: string;
  /** The caller's session id (`handle.options({ sessionId })`, HTTP `x-session-id`), or null. */
  readonly sessionId: string | null;
  /** The method called: `__call__` or a method name. */
  readonly method: string;
  /**
   * The HTTP request (method, path below the route prefix, query, headers) when the call came
   * through the HTTP proxy; undefined for handle and gRPC calls.
   */
  readonly http?: HttpRequestInfo | undefined;
  /** The call's multiplexed model id, when it has one (`getMultiplexedModelId()` reads it). */
  readonly multiplexedModelId?: string | undefined;
}

interface RuntimeSlot {
  replica: ReplicaContext | undefined;
  requests: AsyncLocalStorage<RequestContext>;
}

// The slot lives on globalThis under a registry symbol so that user code importing another copy of
// this package (e.g. through the `tsserve` facade, or a module graph loaded twice by tsx) still sees
// the context the runtime set.
const SLOT_KEY = Symbol.for("tsserve.replica.runtime");

function slot(): RuntimeSlot {
  const g = globalThis as { [SLOT_KEY]?: RuntimeSlot };
  let s = g[SLOT_KEY];
  if (s === undefined) {
    s = { replica: undefined, requests: new AsyncLocalStorage<RequestContext>() };
    g[SLOT_KEY] = s;
  }
  return s;
}

/**
 * Returns `{ appName, deploymentName, replicaId, nodeId }` of the replica running the caller.
 * Throws a TsserveError (code INTERNAL) outside a replica process, e.g. in a plain client script
 * or at module top level before the runtime has started.
 */
export function getReplicaContext(): ReplicaContext {
  const ctx = slot().replica;
  if (ctx === undefined) {
    throw new TsserveError(
      "INTERNAL",
      "getReplicaContext() called outside a tsserve replica: call it from a deployment's constructor or methods",
    );
  }
  return ctx;
}

/**
 * Returns `{ requestId, sessionId, method, http? }` of the request the caller is serving, or `undefined`
 * outside a request (constructor, timers started outside a request, plain scripts). The context
 * follows `await`s and async-generator steps of the method that serves the request. It is the
 * decoded request itself (no copy per request), so treat it as read-only.
 */
export function getRequestContext(): RequestContext | undefined {
  return slot().requests.getStore();
}

/** Runtime only: sets the replica context once, before the user class is constructed. */
export function setReplicaContext(ctx: ReplicaContext): void {
  slot().replica = Object.freeze({ ...ctx });
}

/** Runtime only: the storage that carries the request context through user code. */
export function requestStorage(): AsyncLocalStorage<RequestContext> {
  return slot().requests;
}
