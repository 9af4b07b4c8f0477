import type { ReplicaInfo } from "@tsserve/protocol";
import type { RoutingConfig } from "@tsserve/protocol/internal";

/** One replica set with the routing config that goes with it. */
export interface MembershipUpdate {
  replicas: readonly ReplicaInfo[];
  config: RoutingConfig;
  /** The deployment was deleted: calls fail with DeploymentNotFoundError until a set without it. */
  retired?: boolean;
}

/** What a membership source tells the handle. */
export interface MembershipListener {
  /** A newer replica set (or config). */
  onUpdate(update: MembershipUpdate): void;
  /**
   * The lookup failed in a way requests waiting for a first set must see (e.g.
   * DeploymentNotFoundError). Transient failures (controller down) are retried, not reported.
   */
  onError(error: Error): void;
}

/**
 * Where a handle's replica set comes from: the controller in production, a static list in tests
 * and benches. A source may serve several listeners.
 */
export interface MembershipSource {
  /** Starts following and returns the function that stops this listener. */
  subscribe(listener: MembershipListener): () => void;
  /**
   * Asks again after `onError` (a new request arrived after DEPLOYMENT_NOT_FOUND: the deployment
   * may exist by now). Optional: static sources have nothing to ask.
   */
  refresh?(): void;
}
