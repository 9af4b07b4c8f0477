import {
  DEFAULT_SCORER_WEIGHTS,
  ScoringRouter,
  type RouterContext,
  type RoutingRequest,
  type Scorer,
} from "@tsserve/handle";
import { renderChat, type ChatMessage } from "../../examples/llm-cache/engine/chat-template.js";
import { blockKeys } from "../../examples/llm-cache/engine/kv-blocks.js";
import { SIM } from "../../examples/llm-cache/engine/sim-constants.js";

/**
 * What every engine's KV cache holds, exactly: each generation reports the block keys it stored
 * and evicted (the engines' KV events), and a routed request's blocks count as held from the
 * moment it is sent (its prefill is on the way), so concurrent calls with one prefix meet.
 */
export class ExactCaches {
  private readonly held = new Map<string, Set<number>>();

  private of(replica: string): Set<number> {
    let s = this.held.get(replica);
    if (s === undefined) this.held.set(replica, (s = new Set()));
    return s;
  }

  /** A replica's report of one generation. */
  report(replica: string, stored: readonly number[], evicted: readonly number[]): void {
    const s = this.of(replica);
    for (const k of stored) s.add(k);
    for (const k of evicted) s.delete(k);
  }

  routed(replica: string, keys: readonly number[]): void {
    const s = this.of(replica);
    for (const k of keys) s.add(k);
  }

  /** Leading blocks of `keys` the replica holds. */
  match(replica: string, keys: readonly number[]): number {
    const s = this.held.get(replica);
    let i = 0;
    if (s !== undefined) while (i < keys.length && s.has(keys[i]!)) i++;
    return i;
  }

  clear(): void {
    this.held.clear();
  }
}

/** The one view the bench's oracle routers read; the bench feeds it from the engines' reports. */
export const EXACT_CACHES = new ExactCaches();

const keysOf = new WeakMap<RoutingRequest, number[]>();
function tokenKeys(request: RoutingRequest): number[] {
  let keys = keysOf.get(request);
  if (keys === undefined) {
    const arg = request.args?.[0] as { messages?: ChatMessage[] } | undefined;
    keys = arg?.messages === undefined ? [] : blockKeys(renderChat(arg.messages), SIM.blockTokens);
    keysOf.set(request, keys);
  }
  return keys;
}

const exactPrefix: Scorer = {
  name: "exact-prefix",
  score(replicaId, request) {
    const keys = tokenKeys(request);
    return keys.length === 0 ? 0 : EXACT_CACHES.match(replicaId, keys) / keys.length;
  },
  onRouted(request, replicaId) {
    EXACT_CACHES.routed(replicaId, tokenKeys(request));
  },
};

/**
 * The limit: the Scoring router's policy (same weights, same load bound) with the approximate
 * prefix scorer replaced by one that knows every engine's cache exactly, to the token block.
 */
export class OracleRouter extends ScoringRouter {
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    const w = { ...DEFAULT_SCORER_WEIGHTS, ...(kwargs["weights"] as object | undefined) };
    super(context, { ...kwargs, weights: { session: w.session, load: w.load, prefix: 0 } });
    this.addScorer(exactPrefix, w.prefix);
  }
}
