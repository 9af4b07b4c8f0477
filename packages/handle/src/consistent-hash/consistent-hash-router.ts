import type { ReplicaInfo } from "@tsserve/protocol";
import { RequestRouter, type RouterContext, type RoutingRequest } from "../request-router.js";

/** Session-sticky routing on a MurmurHash3 ring (Ray-compatible). STUB: being implemented. */
export class ConsistentHashRouter extends RequestRouter {
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], _request: RoutingRequest): ReplicaInfo[][] {
    return candidates.length === 0 ? [] : [[...candidates]];
  }
}
