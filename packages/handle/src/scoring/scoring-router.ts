import { ConfigError, type ReplicaInfo } from "@tsserve/protocol";
import { PREFIX_KWARGS, PrefixMatcher } from "../prefix/prefix-matcher.js";
import { RouterKwargs } from "../prefix/router-kwargs.js";
import { RequestRouter, type RouterContext, type RoutingRequest } from "../request-router.js";
import { LoadScorer, PrefixScorer, SessionScorer, type Scorer, type ScoringView } from "./scorers.js";

/**
 * Default weights of the built-in scorers: prefix well over load (Red Hat's llm-d profile weighs
 * them 3 to 2; here the load bound, not the load score, keeps replicas even, so the load score
 * only breaks near-ties between replicas holding the same prefix).
 */
export const DEFAULT_SCORER_WEIGHTS = { session: 1, prefix: 5, load: 1 } as const;
/** Default bound on a replica's load, as a multiple of the mean (consistent hashing with bounded loads). */
export const DEFAULT_SCORING_LOAD_BOUND = 1.25;

/**
 * Kwargs of the `Scoring` router, each optional:
 *
 * - `weights` ({ session: 1, prefix: 5, load: 1 }): the built-in scorers' weights; 0 turns one off.
 * - `loadBound` (1.25; a number > 1, or null for none): a replica whose load (reported queue
 *   length) is at ⌈loadBound × (total load + 1) / replicas⌉ ranks after every replica under the
 *   bound, so no replica runs above (1 + ε) × the mean while others have room; affinity holds
 *   wherever the bound allows, and a hot session spills to the replica that scores best next
 *   (the one holding most of its prefix).
 * - `spillAfterMs` (0): owner patience for calls with a prompt or a session: while the best replica
 *   is full (but under the bound) wait up to this long for it before taking the next.
 * - `promptField`, `blockChars`, `maxCharsPerReplica`: the prefix index, as for `PrefixAware`.
 */
export interface ScoringOptions {
  weights?: { session?: number; prefix?: number; load?: number };
  loadBound?: number | null;
  spillAfterMs?: number;
  promptField?: string;
  blockChars?: number;
  maxCharsPerReplica?: number;
}

/**
 * A scoring router (llm-d's scheduler: filter → weighted scorers → pick): ranks every candidate by
 * the weighted sum of its scorers (session affinity, approximate prefix match, load from the
 * replicas' reported queue lengths) after a filter that moves full replicas and replicas over the
 * load bound behind the others. Returns one group per replica, best first, so a full first choice
 * falls to the next best, not to a random one. Subclasses add scorers with {@link addScorer}.
 */
export class ScoringRouter extends RequestRouter {
  /** Random source in [0, 1) for ties; tests replace it. */
  protected random: () => number = Math.random;
  /** The approximate prefix index behind the `prefix` scorer. */
  readonly matcher: PrefixMatcher;
  private readonly scorers: { scorer: Scorer; weight: number }[] = [];
  private readonly loadBound: number | null;
  private readonly patienceMs: number;
  private readonly view: ScoringView;

  /** Validates the kwargs ({@link ScoringOptions}); a bad one is a ConfigError naming it. */
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
    const k = new RouterKwargs("Scoring", kwargs, ["weights", "loadBound", "spillAfterMs", ...PREFIX_KWARGS]);
    const w = k.weights("weights", DEFAULT_SCORER_WEIGHTS);
    const bound =
      (kwargs["loadBound"] as unknown) === null ? null : k.number("loadBound", DEFAULT_SCORING_LOAD_BOUND, 1);
    if (bound !== null && bound <= 1) {
      throw new ConfigError(
        `Scoring router: requestRouter.kwargs.loadBound must be a number > 1 or null, got ${bound}`,
      );
    }
    this.loadBound = bound;
    this.patienceMs = k.int("spillAfterMs", 0, 0, 60_000);
    this.matcher = new PrefixMatcher(k);
    const ctx = this.context;
    const matcher = this.matcher;
    this.view = {
      get maxOngoingRequests() {
        return ctx.maxOngoingRequests;
      },
      load: (id) => Math.max(ctx.queueLength?.(id) ?? 0, ctx.inFlight(id)),
      prefixMatch: (id, request) => matcher.matchRate(id, request),
    };
    this.addScorer(new SessionScorer(), w.session);
    this.addScorer(new PrefixScorer(this.matcher), w.prefix);
    this.addScorer(new LoadScorer(), w.load);
  }

  /** Adds a scorer with a weight >= 0 (a scorer of weight 0 still learns from routed requests). */
  addScorer(scorer: Scorer, weight: number): void {
    if (typeof scorer?.score !== "function")
      throw new ConfigError("Scoring router: a scorer needs a score() method");
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new ConfigError(
        `Scoring router: scorer ${JSON.stringify(scorer.name)} weight must be a number >= 0, got ${weight}`,
      );
    }
    this.scorers.push({ scorer, weight });
  }

  override updateReplicas(replicas: readonly ReplicaInfo[]): void {
    super.updateReplicas(replicas);
    this.matcher.index.retain(new Set(replicas.map((r) => r.replicaId)));
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][] {
    const n = candidates.length;
    if (n <= 1) return n === 0 ? [] : [[candidates[0]!]];
    const max = this.context.maxOngoingRequests;
    const loads = candidates.map((r) => this.view.load(r.replicaId));
    const total = loads.reduce((a, b) => a + b, 0);
    const cap = this.loadBound === null ? Infinity : Math.ceil((this.loadBound * (total + 1)) / n);
    const ranked = candidates.map((r, i) => {
      const load = loads[i]!;
      // Filter: full replicas last, then those at the load bound, then the rest by score.
      const tier = max > 0 && load >= max ? 2 : load >= cap ? 1 : 0;
      let score = this.random() * 1e-9;
      for (const { scorer, weight } of this.scorers) {
        if (weight > 0) score += weight * scorer.score(r.replicaId, request, this.view);
      }
      return { r, tier, score };
    });
    ranked.sort((a, b) => a.tier - b.tier || b.score - a.score);
    return ranked.map((x) => [x.r]);
  }

  override spillAfterMs(request: RoutingRequest): number {
    if (this.patienceMs === 0) return 0;
    return request.sessionId !== null || this.matcher.keys(request).length > 0 ? this.patienceMs : 0;
  }

  override onRequestRouted(request: RoutingRequest, replicaId: string): void {
    for (const { scorer } of this.scorers) scorer.onRouted?.(request, replicaId);
  }

  override onReplicaDied(replicaId: string): void {
    for (const { scorer } of this.scorers) scorer.onReplicaDied?.(replicaId);
  }
}
