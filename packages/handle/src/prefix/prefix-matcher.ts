import type { RoutingRequest } from "../request-router.js";
import { PrefixIndex } from "./prefix-index.js";
import { routingPrompt } from "./routing-prompt.js";
import type { RouterKwargs } from "./router-kwargs.js";

/** Ray's eviction threshold of its prefix tree (characters per replica). */
export const DEFAULT_MAX_CHARS_PER_REPLICA = 400_000;
/** Characters per index block: about 16 tokens of English, vLLM's default block size. */
export const DEFAULT_BLOCK_CHARS = 64;
/** The argument field holding the prompt when the call passes an object. */
export const DEFAULT_PROMPT_FIELD = "prompt";
/** The kwargs every prefix-matching router takes. */
export const PREFIX_KWARGS = ["promptField", "blockChars", "maxCharsPerReplica"] as const;

/**
 * The prefix side of a router: finds a request's prompt, cuts it into block keys once per request
 * (kept on a WeakMap, so a request rerouted after a membership change is not re-hashed) and asks
 * the {@link PrefixIndex} how much of it each replica holds.
 */
export class PrefixMatcher {
  readonly index: PrefixIndex;
  readonly promptField: string;
  private readonly keysOf = new WeakMap<RoutingRequest, number[]>();

  constructor(k: RouterKwargs) {
    this.promptField = k.string("promptField", DEFAULT_PROMPT_FIELD);
    const blockChars = k.int("blockChars", DEFAULT_BLOCK_CHARS, 1, 65_536);
    const maxChars = k.int("maxCharsPerReplica", DEFAULT_MAX_CHARS_PER_REPLICA, blockChars);
    this.index = new PrefixIndex(blockChars, Math.floor(maxChars / blockChars));
  }

  /** The request's block keys; empty when it has no prompt (or one shorter than a block). */
  keys(request: RoutingRequest): number[] {
    let keys = this.keysOf.get(request);
    if (keys === undefined) {
      const text = routingPrompt(request, this.promptField);
      keys = text === null ? [] : this.index.keys(text);
      this.keysOf.set(request, keys);
    }
    return keys;
  }

  /** Share of the request's prompt blocks `replicaId` is believed to hold, in [0, 1]. */
  matchRate(replicaId: string, request: RoutingRequest): number {
    const keys = this.keys(request);
    return keys.length === 0 ? 0 : this.index.match(replicaId, keys) / keys.length;
  }

  /** The request went to `replicaId`: it holds the prompt now. */
  routed(request: RoutingRequest, replicaId: string): void {
    const keys = this.keys(request);
    if (keys.length > 0) this.index.insert(replicaId, keys);
  }
}
