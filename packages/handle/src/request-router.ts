import type { ReplicaInfo } from "@tsserve/protocol";

/** What a router is told about the handle it serves. */
export interface RouterContext {
  app: string;
  deployment: string;
  /** A replica accepts at most this many concurrent requests. */
  maxOngoingRequests: number;
  /** Requests this handle has sent to `replicaId` and not yet seen answered. */
  inFlight(replicaId: string): number;
  /**
   * The queue length `replicaId` last reported (replies and probes carry it, so it counts every
   * handle's requests, not only this one's), never below this handle's own in-flight count;
   * undefined when unknown or stale (10 s). Optional: contexts built by tests may leave it out.
   */
  queueLength?(replicaId: string): number | undefined;
  /** Report that derived state (a ring) was rebuilt, for metrics. Optional. */
  reportRebuild?(durationMs: number): void;
}

/** The routing-relevant view of one pending request. */
export interface RoutingRequest {
  /** Unique per request; ConsistentHash's key for session-less traffic. */
  readonly requestId: string;
  readonly sessionId: string | null;
  readonly method: string;
  /** `performance.now()` when `remote()` was called. */
  readonly createdAt: number;
  /**
   * The call's arguments, for routers that look inside them (PrefixAware reads the prompt). Read
   * only; for HTTP calls on the JSON fast path it is `[Uint8Array]` (the body's JSON text).
   */
  readonly args?: readonly unknown[];
  /** `handle.options({ prefixKey })`: the text a prefix-matching router matches. @default null */
  readonly prefixKey?: string | null;
  /** `handle.options({ multiplexedModelId })`: the model the call needs. @default undefined */
  readonly multiplexedModelId?: string | null | undefined;
}

/**
 * A pluggable routing policy (mirrors Ray Serve's `RequestRouter`). One instance per handle.
 *
 * - `updateReplicas` runs only when the replica set changes: derive state (a ring) there.
 * - `chooseReplicas` is the hot path: no I/O, no allocation it can avoid. It returns ranked groups;
 *   the handle tries the groups in order and, within a group, takes the replica with the lowest known
 *   queue length below `maxOngoingRequests`. When every group is full the request waits in the
 *   handle's queue (oldest first) and takes the first slot that frees on any replica of its groups.
 *   The handle never changes the arrays it gets back, so a router may return the same (cached)
 *   arrays to many calls; the built-in ones do.
 * - `spillAfterMs` is owner patience: how long a request whose first group is full waits for that
 *   group before later groups may take it. The default 0 spills at once (Ray's behaviour); a sticky
 *   router returns more for requests whose affinity is worth a short wait.
 */
export abstract class RequestRouter {
  private currentReplicas: readonly ReplicaInfo[] = [];

  /** Subclasses validate `kwargs` here and throw a ConfigError naming the bad value. */
  constructor(
    protected readonly context: RouterContext,
    _kwargs: Record<string, unknown> = {},
  ) {}

  /** The replicas of the last membership update. */
  get replicas(): readonly ReplicaInfo[] {
    return this.currentReplicas;
  }

  /** Called on membership change only. Overrides must call `super.updateReplicas(replicas)`. */
  updateReplicas(replicas: readonly ReplicaInfo[]): void {
    this.currentReplicas = replicas;
  }

  /**
   * Ranked candidate groups for `request`, drawn from `candidates` (the routable replicas: the
   * membership minus replicas this handle has dropped). Return `[]` when there is nothing to try.
   */
  abstract chooseReplicas(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][];

  /**
   * Owner patience for `request`, in milliseconds: while its first group is full, the request waits
   * up to this long for a slot there before its later groups may take it. A first group whose
   * replicas are all gone (dead, draining, dropped) never holds a request back. Called once per
   * request that finds its first group full, so it must be cheap. @default 0 (spill at once)
   */
  spillAfterMs(_request: RoutingRequest): number {
    return 0;
  }

  /** The replica accepted the request. */
  onRequestRouted?(request: RoutingRequest, replicaId: string): void;
  /** The request finished on `replicaId` (success or failure). */
  onRequestCompleted?(request: RoutingRequest, replicaId: string): void;
  /** The replica is gone (no responders, or died mid-request); it is no longer a candidate. */
  onReplicaDied?(replicaId: string): void;
}

/** A router class as the registry holds it. */
export type RequestRouterClass = new (
  context: RouterContext,
  kwargs: Record<string, unknown>,
) => RequestRouter;
