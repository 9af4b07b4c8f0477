import type { PrefixMatcher } from "../prefix/prefix-matcher.js";
import type { RoutingRequest } from "../request-router.js";

/** What a scorer may read about the replicas while one request is being scored. */
export interface ScoringView {
  /** A replica accepts at most this many concurrent requests. */
  readonly maxOngoingRequests: number;
  /** The replica's load: its reported queue length (every handle's calls), at least this handle's in flight. */
  load(replicaId: string): number;
  /** Share of the request's prompt the replica is believed to hold, in [0, 1] (the approximate index). */
  prefixMatch(replicaId: string, request: RoutingRequest): number;
}

/**
 * One criterion of the `Scoring` router (llm-d's scorers): a score in [0, 1] for sending `request`
 * to `replicaId`, higher is better. The router ranks replicas by the weighted sum of its scorers.
 * `score` runs once per candidate per request on the hot path: no I/O. Add one with
 * `ScoringRouter.addScorer(scorer, weight)` in a subclass.
 */
export interface Scorer {
  /** Names the scorer in errors and in `weights`. */
  readonly name: string;
  score(replicaId: string, request: RoutingRequest, view: ScoringView): number;
  /** The request was accepted by `replicaId` (learn from it). */
  onRouted?(request: RoutingRequest, replicaId: string): void;
  /** The replica is gone. */
  onReplicaDied?(replicaId: string): void;
}

/** Sessions remembered by the session scorer; the least recently used beyond this are forgotten. */
export const MAX_REMEMBERED_SESSIONS = 100_000;

/**
 * Session affinity (llm-d's `session-affinity-scorer`): 1 for the replica that last served the
 * request's session, 0 for the others and for session-less calls.
 */
export class SessionScorer implements Scorer {
  readonly name = "session";
  private readonly last = new Map<string, string>();

  score(replicaId: string, request: RoutingRequest): number {
    const s = request.sessionId;
    return s !== null && this.last.get(s) === replicaId ? 1 : 0;
  }

  onRouted(request: RoutingRequest, replicaId: string): void {
    const s = request.sessionId;
    if (s === null) return;
    this.last.delete(s);
    this.last.set(s, replicaId);
    if (this.last.size > MAX_REMEMBERED_SESSIONS) this.last.delete(this.last.keys().next().value!);
  }

  onReplicaDied(replicaId: string): void {
    for (const [s, r] of this.last) if (r === replicaId) this.last.delete(s);
  }
}

/** Prefix-cache match (llm-d's approximate `prefix-cache-scorer`): the matched share of the prompt. */
export class PrefixScorer implements Scorer {
  readonly name = "prefix";
  constructor(private readonly matcher: PrefixMatcher) {}

  score(replicaId: string, request: RoutingRequest, view: ScoringView): number {
    return view.prefixMatch(replicaId, request);
  }

  onRouted(request: RoutingRequest, replicaId: string): void {
    this.matcher.routed(request, replicaId);
  }

  onReplicaDied(replicaId: string): void {
    this.matcher.index.drop(replicaId);
  }
}

/** Load (llm-d's `load-aware-scorer`): 1 for an idle replica, falling linearly to 0 when full. */
export class LoadScorer implements Scorer {
  readonly name = "load";

  score(replicaId: string, _request: RoutingRequest, view: ScoringView): number {
    const max = view.maxOngoingRequests;
    return max <= 0 ? 0 : Math.max(0, 1 - view.load(replicaId) / max);
  }
}
