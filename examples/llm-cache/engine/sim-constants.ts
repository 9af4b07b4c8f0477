/**
 * Every calibrated constant of the simulated LLM engine, in one place. Real engines are about ten
 * times slower per request; these are scaled so that a bench row takes seconds on a shared
 * 2-core machine while keeping the ratios that make routing matter: a 6,000-token shared system
 * prompt costs a sixth of what a whole answer costs to decode, but it is paid before the first token, and one replica's KV
 * cache holds a few tenants' prompts, not all of them.
 */
export const SIM = {
  /** Tokens per KV-cache block (vLLM's default block size). */
  blockTokens: 16,
  /** Blocks one replica's KV cache holds: 2,048 × 16 = 32,768 tokens. */
  cacheBlocks: 2048,
  /** Prefill cost of one uncached prompt token, ms (100k tokens/s; 3,000 tokens = 30 ms). */
  prefillMsPerToken: 0.01,
  /** Decode cost of one output token, ms (all running requests decode together: a batch). */
  decodeMsPerToken: 6,
  /** Output tokens sent per stream chunk (and per decode sleep): fewer timers and messages. */
  tokensPerChunk: 8,
  /** Concurrent requests a replica runs (its batch): the deployment's maxOngoingRequests. */
  batchSlots: 4,
} as const;
