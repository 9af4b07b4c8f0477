import type { ReplicaInfo } from "@tsserve/protocol";
import { ConfigError } from "@tsserve/protocol";
import { RequestRouter, type RouterContext, type RoutingRequest } from "./request-router.js";

/**
 * The default router (Ray's PowerOfTwoChoicesRequestRouter without locality): two distinct
 * replicas drawn uniformly at random, returned as one group `[[a, b]]`. The handle then takes the
 * one with the shorter known queue, which spreads load nearly as well as checking every replica
 * at the cost of two.
 */
export class PowerOfTwoChoicesRouter extends RequestRouter {
  /** Random source in [0, 1); tests replace it. */
  protected random: () => number = Math.random;

  /** Takes no kwargs; any given is a ConfigError naming it. */
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
    const keys = Object.keys(kwargs);
    if (keys.length > 0) {
      throw new ConfigError(
        `PowerOfTwoChoices router takes no kwargs, got ${keys.map((k) => JSON.stringify(k)).join(", ")}`,
      );
    }
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], _request: RoutingRequest): ReplicaInfo[][] {
    const n = candidates.length;
    if (n === 0) return [];
    if (n === 1) return [[candidates[0]!]];
    // i uniform over n, j uniform over the other n-1: two distinct picks with two random draws.
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j += 1;
    return [[candidates[i]!, candidates[j]!]];
  }
}
