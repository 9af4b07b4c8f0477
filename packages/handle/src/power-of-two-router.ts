import type { ReplicaInfo } from "@tsserve/protocol";
import { ConfigError } from "@tsserve/protocol";
import { RequestRouter, type RouterContext, type RoutingRequest } from "./request-router.js";

/**
 * The default router (Ray's PowerOfTwoChoicesRequestRouter without locality): two distinct
 * replicas drawn uniformly at random as the first group, `[[a, b], all]`. The handle takes the one
 * with the shorter known queue, which spreads load nearly as well as checking every replica at the
 * cost of two. The second group is every candidate (the same array the handle passed in, so it
 * costs no allocation): when both picks are full, the request takes any replica with room, and
 * when every replica is full it waits for whichever slot frees first. Ray gets the same effect by
 * sampling again after each backoff; here the handle's queue does it without a sleep.
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

  /**
   * The possible answers for one or two candidates, built once per candidates array (the handle
   * passes the same array until the replica set changes): with so few replicas every call would
   * otherwise allocate a pair that is always the same two. Shared between calls: read-only.
   */
  private small: { of: readonly ReplicaInfo[]; answers: ReplicaInfo[][][] } | null = null;

  override chooseReplicas(candidates: readonly ReplicaInfo[], _request: RoutingRequest): ReplicaInfo[][] {
    const n = candidates.length;
    if (n === 0) return [];
    if (n <= 2) {
      const answers = this.smallAnswers(candidates);
      // Two replicas: which one comes first (it takes ties) is the one random draw.
      return n === 1 ? answers[0]! : answers[this.random() < 0.5 ? 0 : 1]!;
    }
    const all = candidates as ReplicaInfo[];
    // i uniform over n, j uniform over the other n-1: two distinct picks with two random draws.
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j += 1;
    return [[candidates[i]!, candidates[j]!], all];
  }

  private smallAnswers(candidates: readonly ReplicaInfo[]): ReplicaInfo[][][] {
    // One answer per replica (which one comes first): a length change means the array changed too.
    if (this.small?.of !== candidates || this.small.answers.length !== candidates.length) {
      const a = candidates[0]!;
      const b = candidates[1];
      this.small = { of: candidates, answers: b === undefined ? [[[a]]] : [[[a, b]], [[b, a]]] };
    }
    return this.small.answers;
  }
}
