import type { HandleMetricsSink } from "../metrics-sink.js";
import type { RouterContext } from "../request-router.js";
import type { ReplicaLoad } from "./replica-load.js";
import type { ReplicaSet } from "./replica-set.js";

/**
 * The view of one deployment's dispatch state that its router sees (`RequestRouter` context): its
 * names, the slot cap of the current config, this handle's in-flight counts and known queue
 * lengths, and a hook to report ring rebuilds. `replicas` is a getter because the replica set is
 * built with this context (the router is created inside it).
 */
export function routerContext(
  app: string,
  deployment: string,
  replicas: () => ReplicaSet,
  load: ReplicaLoad,
  metrics: HandleMetricsSink | undefined,
): RouterContext {
  return {
    app,
    deployment,
    get maxOngoingRequests() {
      return replicas().config?.maxOngoingRequests ?? 0;
    },
    inFlight: (replicaId) => load.inFlight(replicaId),
    queueLength: (replicaId) => load.queueLen(replicaId),
    reportRebuild: (ms) => metrics?.routerRebuilt?.(app, deployment, ms),
  };
}
