import { setTimeout as sleep } from "node:timers/promises";
import { decode } from "gpt-tokenizer/encoding/cl100k_base";
import { renderChat, type ChatMessage } from "./chat-template.js";
import { KvCache } from "./kv-cache.js";
import { blockKeys } from "./kv-blocks.js";
import { SIM } from "./sim-constants.js";

/** One generation request (an OpenAI-style chat completion, reduced). */
export interface GenerateRequest {
  messages: ChatMessage[];
  /** Output tokens to generate. @default 32 */
  maxTokens?: number;
  /** Return the cache's stored and evicted block keys (the KV events an oracle router listens to). */
  reportKv?: boolean;
}

/** What one generation cost and what the cache did; the last chunk of every stream. */
export interface GenerationStats {
  replica: string;
  promptTokens: number;
  /** Prompt tokens served from the KV cache (whole blocks of the cached prefix). */
  cachedTokens: number;
  outputTokens: number;
  /** Waiting for the replica's prefill lane, ms. */
  queueMs: number;
  /** Prefill of the uncached tokens, ms. */
  prefillMs: number;
  /** With `reportKv`: block keys stored and evicted by this request. */
  kv?: { stored: number[]; evicted: number[] };
}

/** A streamed piece: generated text, or the final stats. */
export type GenerationChunk = { text: string } | { done: GenerationStats };

/**
 * A simulated LLM engine that tells the truth about its cache: a KV cache of token blocks with a
 * capacity and LRU eviction; a request waits for the replica's prefill lane (prefill is compute-
 * bound: one at a time), prefills only its uncached tokens, then decodes its output alongside the
 * other running requests (a batch), streaming tokens. Time to first token is queue wait + prefill
 * of the uncached tokens + one decode step. Costs are sleeps ({@link SIM}).
 */
export class SimEngine {
  readonly cache: KvCache;
  private lane: Promise<void> = Promise.resolve();

  constructor(
    readonly replica: string,
    cacheBlocks: number = SIM.cacheBlocks,
  ) {
    this.cache = new KvCache(cacheBlocks);
  }

  /** Generates an answer to `req`, streaming its text and ending with its stats. */
  async *generate(req: GenerateRequest): AsyncGenerator<GenerationChunk> {
    const arrived = performance.now();
    const tokens = renderChat(req.messages);
    const keys = blockKeys(tokens, SIM.blockTokens);
    let release!: () => void;
    const before = this.lane;
    this.lane = new Promise((r) => (release = r));
    await before;
    const started = performance.now();
    let update;
    try {
      // The cache is consulted when the prefill runs, not on arrival: what an earlier request just
      // stored is there to reuse, what it evicted is gone.
      update = this.cache.lookupAndStore(keys, req.reportKv === true);
      const cached = update.hitBlocks * SIM.blockTokens;
      await sleep((tokens.length - cached) * SIM.prefillMsPerToken);
    } finally {
      release();
    }
    const prefillMs = performance.now() - started;
    const total = req.maxTokens ?? 32;
    // The answer's text: prompt tokens read backwards, decoded, so it is real text of real tokens.
    const answer = tokens.slice(-Math.min(total, tokens.length)).reverse();
    for (let sent = 0; sent < total;) {
      const n = sent === 0 ? 1 : Math.min(SIM.tokensPerChunk, total - sent);
      await sleep(n * SIM.decodeMsPerToken);
      yield { text: decode(answer.slice(sent, sent + n).filter((t) => t < 100_000)) };
      sent += n;
    }
    const stats: GenerationStats = {
      replica: this.replica,
      promptTokens: tokens.length,
      cachedTokens: update.hitBlocks * SIM.blockTokens,
      outputTokens: total,
      queueMs: started - arrived,
      prefillMs,
    };
    if (req.reportKv === true) stats.kv = { stored: update.stored, evicted: update.evicted };
    yield { done: stats };
  }
}
