import type { ReplicaInfo } from "@tsserve/protocol";
import { RequestRouter, type RouterContext, type RoutingRequest } from "../request-router.js";
import { PREFIX_KWARGS, PrefixMatcher } from "./prefix-matcher.js";
import { RouterKwargs } from "./router-kwargs.js";

/** Ray's `imbalanced_threshold`. */
export const DEFAULT_IMBALANCED_THRESHOLD = 10;
/** Ray's `match_rate_threshold`. */
export const DEFAULT_MATCH_RATE_THRESHOLD = 0.1;

/**
 * Kwargs of the `PrefixAware` router (Ray's PrefixCacheAffinityRouter), each optional:
 *
 * - `imbalancedThreshold` (10, Ray's `imbalanced_threshold`): when the candidates' queue lengths
 *   (as replicas report them) differ by this much or more, route by load only (power of two).
 * - `matchRateThreshold` (0.1, Ray's `match_rate_threshold`): the best replica's share of the
 *   prompt must reach this for prefix routing; below it the request goes to the replica with the
 *   smallest believed cache, so new prefixes spread.
 * - `promptField` ("prompt"): the field of the first argument holding the prompt (a string or chat
 *   messages); `handle.options({ prefixKey })` overrides it per call.
 * - `blockChars` (64) and `maxCharsPerReplica` (400,000, Ray's eviction threshold): the index's
 *   block size and the most prompt text it remembers per replica (LRU).
 */
export interface PrefixAwareOptions {
  imbalancedThreshold?: number;
  matchRateThreshold?: number;
  promptField?: string;
  blockChars?: number;
  maxCharsPerReplica?: number;
}

/**
 * Prefix-cache affinity (Ray's PrefixCacheAffinityRouter, SGLang's cache-aware policy): sends a
 * prompt to the replica believed to hold the longest prefix of it, from an approximate index of
 * what this router sent where. Groups `[[best matches], all]`: when the best replica is full the
 * request takes whichever replica has room, as Ray falls back to power of two.
 */
export class PrefixAwareRouter extends RequestRouter {
  /** Random source in [0, 1); tests replace it. */
  protected random: () => number = Math.random;
  /** The approximate index; public for tests and for subclasses that correct it from reports. */
  readonly matcher: PrefixMatcher;
  private readonly imbalancedThreshold: number;
  private readonly matchRateThreshold: number;

  /** Validates the kwargs ({@link PrefixAwareOptions}); a bad one is a ConfigError naming it. */
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
    const k = new RouterKwargs("PrefixAware", kwargs, [
      "imbalancedThreshold",
      "matchRateThreshold",
      ...PREFIX_KWARGS,
    ]);
    this.imbalancedThreshold = k.number("imbalancedThreshold", DEFAULT_IMBALANCED_THRESHOLD, 0);
    this.matchRateThreshold = k.number("matchRateThreshold", DEFAULT_MATCH_RATE_THRESHOLD, 0, 1);
    this.matcher = new PrefixMatcher(k);
  }

  override updateReplicas(replicas: readonly ReplicaInfo[]): void {
    super.updateReplicas(replicas);
    this.matcher.index.retain(new Set(replicas.map((r) => r.replicaId)));
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][] {
    const n = candidates.length;
    if (n <= 1) return n === 0 ? [] : [[candidates[0]!]];
    const all = candidates as ReplicaInfo[];
    const keys = this.matcher.keys(request);
    if (keys.length === 0 || this.imbalanced(candidates)) return this.powerOfTwo(candidates);
    const index = this.matcher.index;
    let best: ReplicaInfo[] = [];
    let bestMatch = -1;
    for (const r of candidates) {
      const m = index.match(r.replicaId, keys);
      if (m > bestMatch) [best, bestMatch] = [[r], m];
      else if (m === bestMatch) best.push(r);
    }
    if (bestMatch / keys.length < this.matchRateThreshold) {
      // No replica holds enough of it: start the prefix where the least is cached.
      let least = Infinity;
      best = [];
      for (const r of candidates) {
        const s = index.size(r.replicaId);
        if (s < least) [best, least] = [[r], s];
        else if (s === least) best.push(r);
      }
    }
    return [best, all];
  }

  override onRequestRouted(request: RoutingRequest, replicaId: string): void {
    this.matcher.routed(request, replicaId);
  }

  override onReplicaDied(replicaId: string): void {
    this.matcher.index.drop(replicaId);
  }

  private imbalanced(candidates: readonly ReplicaInfo[]): boolean {
    let min = Infinity;
    let max = -Infinity;
    for (const r of candidates) {
      const id = r.replicaId;
      const q = this.context.queueLength?.(id) ?? this.context.inFlight(id);
      if (q < min) min = q;
      if (q > max) max = q;
    }
    return max - min >= this.imbalancedThreshold;
  }

  private powerOfTwo(candidates: readonly ReplicaInfo[]): ReplicaInfo[][] {
    const n = candidates.length;
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j += 1;
    const pair = [candidates[i]!, candidates[j]!];
    return n === 2 ? [pair] : [pair, candidates as ReplicaInfo[]];
  }
}
