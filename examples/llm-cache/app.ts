/**
 * 03 · llm-cache — why session affinity matters for LLM serving.
 *
 * A simulated LLM replica keeps a per-replica prefix cache (an LRU of prompt prefixes, like a KV
 * cache). Prompt tokens found in the cache are free; the others cost "prefill" time, and every
 * generated token costs "decode" time (short sleeps). A conversation re-sends its whole history
 * each turn, so a replica that served the previous turn holds most of the prompt already, provided
 * the router sends the session back to it. serve.yaml deploys the same code twice: once routed with
 * ConsistentHash (sticky) and once with PowerOfTwoChoices (load only); client.ts compares them.
 */
import { deployment, getReplicaContext } from "tsserve";

/** Simulated costs; small so the demo runs in seconds on a laptop. */
const PREFILL_MS_PER_TOKEN = 0.25;
const DECODE_MS_PER_TOKEN = 1;
const OUTPUT_TOKENS = 4;

/** One generation's result, with what the cache saved. */
export interface Generation {
  replica: string;
  text: string;
  promptTokens: number;
  cachedTokens: number;
}

/** An LRU of token sequences; `longestPrefix` is a linear scan, fine for a demo-sized cache. */
class PrefixCache {
  private readonly entries = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  /** Length (in tokens) of the longest cached prefix of `tokens`; refreshes that entry. */
  longestPrefix(tokens: readonly string[]): number {
    let best = 0;
    let bestKey: string | undefined;
    for (const [key, len] of this.entries) {
      if (len > best && len <= tokens.length && key === tokens.slice(0, len).join(" ")) {
        best = len;
        bestKey = key;
      }
    }
    if (bestKey !== undefined) {
      this.entries.delete(bestKey);
      this.entries.set(bestKey, best);
    }
    return best;
  }

  /** Remembers `tokens` as a prefix, evicting the least recently used beyond capacity. */
  add(tokens: readonly string[]): void {
    const key = tokens.join(" ");
    this.entries.delete(key);
    this.entries.set(key, tokens.length);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

export class LLM {
  private readonly cache: PrefixCache;

  constructor(cacheEntries: number) {
    this.cache = new PrefixCache(cacheEntries);
  }

  /** "Generates" an answer to `prompt` (the whole conversation so far). */
  async generate(prompt: string): Promise<Generation> {
    const tokens = prompt.split(/\s+/).filter(Boolean);
    const cachedTokens = this.cache.longestPrefix(tokens);
    const text = Array.from({ length: OUTPUT_TOKENS }, (_, i) => `tok${(tokens.length + i) % 97}`).join(" ");
    const costMs =
      (tokens.length - cachedTokens) * PREFILL_MS_PER_TOKEN + OUTPUT_TOKENS * DECODE_MS_PER_TOKEN;
    await new Promise((r) => setTimeout(r, costMs));
    // The next turn's prompt starts with this prompt plus the answer: cache both, as a KV cache would.
    this.cache.add([...tokens, ...text.split(" ")]);
    return { replica: getReplicaContext().replicaId, text, promptTokens: tokens.length, cachedTokens };
  }

  /** HTTP: `POST /llm-hash` with `{ "prompt": "…" }` or a JSON string. */
  async __call__(input: unknown): Promise<Generation> {
    const prompt = typeof input === "object" && input !== null && "prompt" in input ? input.prompt : input;
    return this.generate(String(prompt ?? ""));
  }
}

export const app = deployment({ numReplicas: 3, maxOngoingRequests: 8 })(LLM).bind(16);
