import type { ReplicaInfo } from "@tsserve/protocol";
import { PowerOfTwoChoicesRouter, type RoutingRequest } from "@tsserve/handle";

/**
 * Ray's model rule as the issue states it, for comparison in the same run: a multiplexed call goes
 * to a replica that reports the model loaded, else to any replica (power of two choices over all
 * of them). It reads only what replicas report (Ray's routers see the model ids replicas push), not
 * where this handle sent what, and it does not prefer a replica with a free model slot. The
 * handle's model patience (1 s, Ray's matching timeout) applies to it as to tsserve's rule.
 */
export class RayModelRuleRouter extends PowerOfTwoChoicesRouter {
  /** The dispatcher's hook for calls with a model id (see handle/src/multiplex/model-routing.ts). */
  chooseForModel(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][] {
    const modelId = request.multiplexedModelId;
    const holders = candidates.filter((r) => modelId != null && r.models?.includes(modelId) === true);
    const any = this.chooseReplicas(candidates, request);
    return holders.length > 0 ? [holders, ...any] : any;
  }
}
