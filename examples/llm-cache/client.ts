/**
 * 03 · llm-cache client — the same chats through PowerOfTwoChoices, ConsistentHash and Scoring.
 *
 * 4 tenants share long system prompts; 16 users (4 per tenant) chat 5 turns each, concurrently,
 * every turn re-sending the whole conversation. Prints, per router, the share of prompt tokens
 * served from a replica's KV cache and the time to first token. Run from this folder:
 * `pnpm exec tsx client.ts`.
 */
import { connect, type DeploymentHandle } from "tsserve";
import type { ChatMessage, LLM } from "./app.js";

const TENANTS = 4;
const USERS_PER_TENANT = 4;
const TURNS = 5;
const system = (t: number) =>
  `You are tenant ${t}'s assistant. ${"Follow the policy and cite sources. ".repeat(500)}`;

interface RunResult {
  prompt: number;
  cached: number;
  ttftMs: number[];
}

async function run(llm: DeploymentHandle<LLM>, label: string): Promise<RunResult> {
  const result: RunResult = { prompt: 0, cached: 0, ttftMs: [] };
  const stream = llm.options({ stream: true });
  await Promise.all(
    Array.from({ length: TENANTS * USERS_PER_TENANT }, async (_, u) => {
      const messages: ChatMessage[] = [{ role: "system", content: `${label} ${system(u % TENANTS)}` }];
      for (let t = 0; t < TURNS; t++) {
        messages.push({
          role: "user",
          content: `user ${u}, turn ${t}: what does the policy say about item ${t}?`,
        });
        const started = performance.now();
        let first = 0;
        let answer = "";
        for await (const c of stream
          .options({ sessionId: `${label}-user-${u}` })
          .stream.remote({ messages })) {
          if (first === 0) first = performance.now() - started;
          if ("text" in c) answer += c.text;
          else {
            result.prompt += c.done.promptTokens;
            result.cached += c.done.cachedTokens;
          }
        }
        result.ttftMs.push(first);
        messages.push({ role: "assistant", content: answer });
      }
    }),
  );
  return result;
}

function summary(name: string, r: RunResult): string {
  const sorted = [...r.ttftMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length * 0.5)] ?? 0;
  const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? 0;
  const hit = (100 * r.cached) / Math.max(1, r.prompt);
  return `${name.padEnd(18)} ${hit.toFixed(1).padStart(8)} %  ${p50.toFixed(1).padStart(8)} ms  ${p90.toFixed(1).padStart(8)} ms`;
}

const client = await connect(); // TSSERVE_ADDRESS, else the .tsserve/address `tsserve start` wrote
try {
  const apps = [
    ["PowerOfTwoChoices", "llm-p2c"],
    ["ConsistentHash", "llm-hash"],
    ["Scoring", "llm-scoring"],
  ] as const;
  console.log(`${TENANTS} tenants × ${USERS_PER_TENANT} users × ${TURNS} turns per router`);
  console.log("router             cache hit    TTFT p50      TTFT p90");
  for (const [router, app] of apps) {
    console.log(summary(router, await run(client.getDeploymentHandle<LLM>("LLM", { app }), app)));
  }
} finally {
  await client.close();
}
