/**
 * 03 · llm-cache client — the same conversations through ConsistentHash and PowerOfTwoChoices.
 *
 * 12 sessions × 6 turns each (sessions concurrent, turns in order); every turn re-sends the whole
 * conversation. Prints, per router, the share of prompt tokens served from a replica's prefix
 * cache and the latency per request. Run from this folder: `pnpm exec tsx client.ts`.
 */
import { connect, type DeploymentHandle } from "tsserve";
import type { LLM } from "./app.js";

const SESSIONS = 12;
const TURNS = 6;
const SYSTEM_PROMPT = Array.from({ length: 40 }, (_, i) => `sys${i}`).join(" ");

interface RunResult {
  prompt: number;
  cached: number;
  latenciesMs: number[];
}

async function run(llm: DeploymentHandle<LLM>, label: string): Promise<RunResult> {
  const result: RunResult = { prompt: 0, cached: 0, latenciesMs: [] };
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      let conversation = SYSTEM_PROMPT;
      for (let t = 0; t < TURNS; t++) {
        conversation += ` ${label}-user${s}-turn${t} ${"word ".repeat(11).trim()}`;
        const started = performance.now();
        const g = await llm.options({ sessionId: `session-${s}` }).generate.remote(conversation);
        result.latenciesMs.push(performance.now() - started);
        result.prompt += g.promptTokens;
        result.cached += g.cachedTokens;
        conversation += ` ${g.text}`;
      }
    }),
  );
  return result;
}

function summary(name: string, r: RunResult): string {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length * 0.5)] ?? 0;
  const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
  const hit = (100 * r.cached) / Math.max(1, r.prompt);
  return `${name.padEnd(18)} ${hit.toFixed(1).padStart(8)} %  ${p50.toFixed(1).padStart(8)} ms  ${p95.toFixed(1).padStart(8)} ms`;
}

const client = await connect(); // TSSERVE_ADDRESS, else the .tsserve/address `tsserve start` wrote
try {
  const hash = await run(client.getDeploymentHandle<LLM>("LLM", { app: "llm-hash" }), "hash");
  const p2c = await run(client.getDeploymentHandle<LLM>("LLM", { app: "llm-p2c" }), "p2c");
  console.log(`${SESSIONS} sessions × ${TURNS} turns per router`);
  console.log("router             cache hit    p50 latency   p95 latency");
  console.log(summary("ConsistentHash", hash));
  console.log(summary("PowerOfTwoChoices", p2c));
} finally {
  await client.close();
}
