import {
  DEFAULT_MAX_ONGOING_REQUESTS,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_ROUTER_CLASS,
  type RoutingConfig,
} from "@tsserve/protocol/internal";
import { type ReplicaInfo } from "@tsserve/protocol";
import type { MembershipListener, MembershipSource, MembershipUpdate } from "./membership-source.js";

/** Options of {@link staticMembership}. */
export interface StaticMembershipOptions {
  /** The replicas to route to (they must be running and subscribed). */
  replicas: ReplicaInfo[];
  /** Routing config; missing fields take the deployment defaults (5, -1, PowerOfTwoChoices). */
  config?: Partial<RoutingConfig>;
}

/** A membership source whose set the caller controls; `update` replaces the set. */
export interface StaticMembership extends MembershipSource {
  /** Replaces the replica set (a full set, not a delta) and tells every listener. */
  update(replicas: ReplicaInfo[]): void;
  /** The current set. */
  readonly replicas: readonly ReplicaInfo[];
}

/**
 * The test and bench seam: route to a fixed list of replicas with no controller. Listeners get the
 * current set at once when they subscribe.
 */
export function staticMembership(options: StaticMembershipOptions): StaticMembership {
  const config: RoutingConfig = {
    maxOngoingRequests: options.config?.maxOngoingRequests ?? DEFAULT_MAX_ONGOING_REQUESTS,
    maxQueuedRequests: options.config?.maxQueuedRequests ?? DEFAULT_MAX_QUEUED_REQUESTS,
    requestRouter: options.config?.requestRouter ?? { class: DEFAULT_ROUTER_CLASS, kwargs: {} },
    ...(options.config?.idempotent === undefined ? {} : { idempotent: options.config.idempotent }),
    ...(options.config?.maxRetries === undefined ? {} : { maxRetries: options.config.maxRetries }),
    ...(options.config?.maxModelsPerReplica === undefined
      ? {}
      : { maxModelsPerReplica: options.config.maxModelsPerReplica }),
  };
  let current: MembershipUpdate = { replicas: [...options.replicas], config };
  const listeners = new Set<MembershipListener>();
  return {
    get replicas() {
      return current.replicas;
    },
    subscribe(listener) {
      listeners.add(listener);
      listener.onUpdate(current);
      return () => listeners.delete(listener);
    },
    update(replicas) {
      current = { replicas: [...replicas], config };
      for (const l of listeners) l.onUpdate(current);
    },
  };
}
