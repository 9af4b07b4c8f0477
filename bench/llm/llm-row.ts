import type { DeploymentHandle, StreamingDeploymentHandle } from "@tsserve/handle";
import type {
  GenerateRequest,
  GenerationChunk,
  GenerationStats,
} from "../../examples/llm-cache/engine/sim-engine.js";
import { runOpenLoop } from "../harness/open-loop.js";
import { percentiles } from "../harness/stats.js";
import { EXACT_CACHES } from "./oracle-router.js";
import type { Workload } from "./workloads.js";

/** The slice of examples/llm-cache's LLM class the bench calls. */
export interface LlmApi {
  stream(req: GenerateRequest): AsyncGenerator<GenerationChunk>;
}

/** What one router did with one workload. */
export interface RowStats {
  calls: number;
  errors: number;
  hitRate: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  latencyP90Ms: number;
  /** Calls served per replica: max ÷ mean (1 = perfectly even). */
  maxOverMean: number;
  /**
   * Characters of the prompt text a prefix router matches (`role: content` lines) per prompt token
   * the engine counted, over every call of the row (warm-up included): what sizes the router's
   * per-replica character budget to the engines' token cache.
   */
  charsPerToken: number;
}

/** Length of the text the prefix routers match for these messages (see routing-prompt.ts). */
function routedChars(messages: readonly { role: string; content: string }[]): number {
  let n = 0;
  for (const m of messages) n += m.role.length + 3 + m.content.length;
  return n;
}

/** Open-loop arrivals at `ratePerSec` for `durationMs`; calls started in the first `warmupMs` fill caches and are not counted. */
export async function runLlmRow(
  handle: DeploymentHandle<LlmApi>,
  workload: Workload,
  replicaIds: readonly string[],
  o: { ratePerSec: number; durationMs: number; warmupMs: number; maxTokens: number },
): Promise<RowStats> {
  const streaming: StreamingDeploymentHandle<LlmApi> = handle.options({ stream: true, timeoutMs: 30_000 });
  const ttft: number[] = [];
  const latency: number[] = [];
  const perReplica = new Map(replicaIds.map((id) => [id, 0]));
  let prompt = 0;
  let cached = 0;
  let allChars = 0;
  let allTokens = 0;
  const start = performance.now();
  const r = await runOpenLoop(
    async () => {
      const c = workload.next();
      const t0 = performance.now();
      let first = -1;
      let text = "";
      let stats: GenerationStats | undefined;
      try {
        const req: GenerateRequest = { messages: c.messages, maxTokens: o.maxTokens, reportKv: true };
        for await (const chunk of streaming.options({ sessionId: c.sessionId }).stream.remote(req)) {
          if (first < 0) first = performance.now() - t0;
          if ("text" in chunk) text += chunk.text;
          else stats = chunk.done;
        }
      } finally {
        c.done(text);
      }
      if (stats === undefined) throw new Error("stream ended without stats");
      if (stats.kv !== undefined) EXACT_CACHES.report(stats.replica, stats.kv.stored, stats.kv.evicted);
      allChars += routedChars(c.messages);
      allTokens += stats.promptTokens;
      if (t0 - start < o.warmupMs) return;
      ttft.push(first);
      latency.push(performance.now() - t0);
      prompt += stats.promptTokens;
      cached += stats.cachedTokens;
      perReplica.set(stats.replica, (perReplica.get(stats.replica) ?? 0) + 1);
    },
    { ratePerSec: o.ratePerSec, durationMs: o.durationMs, drainTimeoutMs: 30_000 },
  );
  const counts = [...perReplica.values()];
  const meanCalls = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  const t = percentiles(ttft);
  return {
    calls: ttft.length,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0) + r.outstanding,
    hitRate: cached / Math.max(1, prompt),
    ttftP50Ms: t.p50,
    ttftP90Ms: t.p90,
    latencyP90Ms: percentiles(latency).p90,
    maxOverMean: meanCalls > 0 ? Math.max(...counts) / meanCalls : Number.NaN,
    charsPerToken: allChars / Math.max(1, allTokens),
  };
}
