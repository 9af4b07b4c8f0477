/**
 * 03 · llm-cache — routing for LLM serving, on a simulated engine that tells the truth about caches.
 *
 * Each replica runs a {@link SimEngine}: a KV cache of 16-token blocks with a capacity and LRU
 * eviction; a request waits for the replica's prefill lane, prefills only its uncached tokens
 * (tokenized with gpt-tokenizer's cl100k vocabulary under a ChatML template), then decodes its
 * answer, streaming it. A chat re-sends its whole history every turn and tenants share long system
 * prompts, so the replica that holds a prompt's prefix answers it much sooner, if the router sends
 * the prompt there. serve.yaml deploys the same code under three routers; client.ts compares them.
 */
import { deployment, getReplicaContext } from "tsserve";
import type { ChatMessage } from "./engine/chat-template.js";
import { SIM } from "./engine/sim-constants.js";
import {
  SimEngine,
  type GenerateRequest,
  type GenerationChunk,
  type GenerationStats,
} from "./engine/sim-engine.js";

export type { ChatMessage, GenerateRequest, GenerationChunk, GenerationStats };

/** The final result of a unary generation. */
export interface Generation extends GenerationStats {
  text: string;
}

export class LLM {
  private readonly engine: SimEngine;

  constructor(cacheBlocks: number = SIM.cacheBlocks) {
    this.engine = new SimEngine(getReplicaContext().replicaId, cacheBlocks);
  }

  /** Streams the answer to `req` (`options({ stream: true })`); the last chunk holds the stats. */
  async *stream(req: GenerateRequest): AsyncGenerator<GenerationChunk> {
    yield* this.engine.generate(req);
  }

  /** The whole answer at once. */
  async generate(req: GenerateRequest): Promise<Generation> {
    let text = "";
    for await (const c of this.engine.generate(req)) {
      if ("text" in c) text += c.text;
      else return { ...c.done, text };
    }
    throw new Error("the engine ended without stats");
  }

  /** HTTP: `POST /llm-scoring` with `{ "messages": [...] }`, or `{ "prompt": "…" }`. */
  async __call__(input: unknown): Promise<Generation> {
    const o = (typeof input === "object" && input !== null ? input : { prompt: input }) as {
      messages?: ChatMessage[];
      prompt?: unknown;
    };
    const messages = o.messages ?? [{ role: "user", content: String(o.prompt ?? "") }];
    return this.generate({ messages });
  }
}

export const app = deployment({ numReplicas: 3, maxOngoingRequests: SIM.batchSlots })(LLM).bind();
