import { resolve } from "node:path";
import { connect, staticMembership, type DeploymentHandle } from "@tsserve/handle";
import { benchNats } from "../harness/bench-nats.js";
import { groupedBars } from "../harness/charts.js";
import { runClosedLoop } from "../harness/closed-loop.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { percentiles, ratio, round } from "../harness/stats.js";
import type { Row, Suite, SuiteContext, SuiteResult } from "../harness/suite.js";
import { Zipf } from "../harness/zipf.js";

const APP = "bench-llm";
const DEPLOYMENT = "LLM";
const MAX_ONGOING = 8;
const TURNS_PER_CONVERSATION = 8;
const ZIPF_S = 1;

/** The slice of examples/llm-cache's LLM class the bench calls (kept local: examples are not a dependency). */
interface LLMApi {
  generate(
    prompt: string,
  ): Promise<{ replica: string; text: string; promptTokens: number; cachedTokens: number }>;
}

const ROUTERS = [
  { label: "PowerOfTwo", router: { class: "PowerOfTwoChoices", kwargs: {} } },
  { label: "ConsistentHash", router: { class: "ConsistentHash", kwargs: { numVirtualNodes: 100 } } },
  {
    label: "ConsistentHash + loadBound 1.25",
    router: { class: "ConsistentHash", kwargs: { numVirtualNodes: 100, loadBound: 1.25 } },
  },
];

interface Session {
  busy: boolean;
  conversation: string;
  turn: number;
  generation: number;
}

/**
 * Multi-turn chat traffic: each call picks a session by Zipf popularity (skipping sessions with a
 * turn in flight: a user waits for the answer), appends a user message to its conversation and
 * sends the whole conversation, as chat clients do. After a few turns the conversation starts over.
 */
async function chatLoad(
  handle: DeploymentHandle<LLMApi>,
  label: string,
  opts: { sessions: number; concurrency: number; durationMs: number },
) {
  const zipf = new Zipf(opts.sessions, ZIPF_S);
  const system = Array.from({ length: 40 }, (_, i) => `${label}-sys${i}`).join(" ");
  const sessions: Session[] = Array.from({ length: opts.sessions }, () => ({
    busy: false,
    conversation: system,
    turn: 0,
    generation: 0,
  }));
  let promptTokens = 0;
  let cachedTokens = 0;
  let idealCached = 0;
  const pick = (): number => {
    for (let tries = 0; tries < 20; tries++) {
      const i = zipf.next();
      if (!sessions[i]!.busy) return i;
    }
    return sessions.findIndex((s) => !s.busy);
  };
  const r = await runClosedLoop(
    async () => {
      const i = pick();
      const s = sessions[i]!;
      s.busy = true;
      try {
        if (s.turn === TURNS_PER_CONVERSATION)
          Object.assign(s, { conversation: system, turn: 0, generation: s.generation + 1 });
        const prior = s.turn === 0 ? 0 : s.conversation.split(" ").length;
        s.conversation += ` ${label}-u${i}-c${s.generation}-t${s.turn} ${"word ".repeat(11).trim()}`;
        const g = await handle
          .options({ sessionId: `${label}-user${i}`, timeoutMs: 30_000 })
          .generate.remote(s.conversation);
        promptTokens += g.promptTokens;
        cachedTokens += g.cachedTokens;
        // The limit: a replica that always holds this session's previous prompt and answer.
        idealCached += prior;
        s.conversation += ` ${g.text}`;
        s.turn++;
      } finally {
        s.busy = false;
      }
    },
    { concurrency: opts.concurrency, durationMs: opts.durationMs },
  );
  return {
    r,
    hitRate: cachedTokens / Math.max(1, promptTokens),
    idealHitRate: idealCached / Math.max(1, promptTokens),
  };
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const cfg = ctx.quick
    ? { replicas: 16, sessions: 128, concurrency: 32, durationMs: 4000 }
    : { replicas: 16, sessions: 128, concurrency: 32, durationMs: 10_000 };
  await using nats = await benchNats(ctx);
  ctx.log(`starting ${cfg.replicas} llm-cache replicas`);
  const set = await startLocalReplicas({
    address: nats.url,
    app: APP,
    deployment: DEPLOYMENT,
    importPath: "llm-cache/app.ts#app",
    cwd: resolve(ctx.benchDir, "../examples"),
    count: cfg.replicas,
    options: { maxOngoingRequests: MAX_ONGOING },
    readyTimeoutMs: 90_000,
  });
  const client = await connect({ address: nats.url });
  const rows: Row[] = [];
  try {
    for (const { label, router } of ROUTERS) {
      ctx.log(`${label}: ${cfg.sessions} sessions, concurrency ${cfg.concurrency}, ${cfg.durationMs} ms`);
      const membership = staticMembership({
        replicas: set.replicas,
        config: { maxOngoingRequests: MAX_ONGOING, requestRouter: router },
      });
      const handle = client.getDeploymentHandle<LLMApi>(DEPLOYMENT, { app: APP, membership });
      // Each router gets its own prompt namespace, so no router reuses another's cache entries.
      const { r, hitRate, idealHitRate } = await chatLoad(handle, label.replace(/[^A-Za-z]/g, ""), cfg);
      const lat = percentiles(r.latenciesUs);
      rows.push({
        router: label,
        requests: r.ok,
        errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
        reqPerSec: Math.round(r.throughput),
        hitRate: round(hitRate, 4),
        idealHitRate: round(idealHitRate, 4),
        p50Ms: round(lat.p50 / 1000, 1),
        p99Ms: round(lat.p99 / 1000, 1),
      });
    }
  } finally {
    await client.close();
    await set.stop();
  }
  const p2c = Number(rows[0]?.["hitRate"]);
  for (const row of rows) row["hitVsP2c"] = round(ratio(Number(row["hitRate"]), p2c), 2);
  const ch = Number(rows[1]?.["hitVsP2c"]);
  return {
    summary:
      `examples/llm-cache (a simulated LLM: uncached prompt tokens cost 0.25 ms of prefill, 4 output tokens 1 ms each; ` +
      `a 16-entry prefix LRU per replica) on ${cfg.replicas} replicas (maxOngoingRequests ${MAX_ONGOING}). ${cfg.sessions} chat sessions ` +
      `with Zipf(s = ${ZIPF_S}) popularity, ${cfg.concurrency} concurrent callers, ${TURNS_PER_CONVERSATION} turns per conversation, each turn ` +
      "re-sending the whole conversation. Hit rate = prompt tokens served from a replica's cache ÷ prompt tokens. The limit, " +
      "_ideal hit rate_, is what a router that always returns a session to a replica still holding its last turn would get.",
    config: {
      ...cfg,
      maxOngoingRequests: MAX_ONGOING,
      turnsPerConversation: TURNS_PER_CONVERSATION,
      zipfS: ZIPF_S,
    },
    columns: [
      { key: "router", label: "router" },
      { key: "requests", label: "requests" },
      { key: "errors", label: "errors" },
      { key: "reqPerSec", label: "req/s" },
      { key: "hitRate", label: "cache hit rate", digits: 3 },
      { key: "idealHitRate", label: "ideal hit rate", digits: 3 },
      { key: "hitVsP2c", label: "hit ÷ PowerOfTwo", digits: 2 },
      { key: "p50Ms", label: "p50 ms", digits: 1 },
      { key: "p99Ms", label: "p99 ms", digits: 1 },
    ],
    rows,
    targets: [
      {
        name: `cache hit rate ConsistentHash ÷ PowerOfTwo at ${cfg.replicas} replicas`,
        target: "≥ 2",
        measured: Number.isFinite(ch) ? ch.toFixed(2) : "n/a",
        met: ch >= 2,
        ...(ch >= 2
          ? {}
          : {
              note: "if ConsistentHash is far below the ideal hit rate, sessions are spilling to fallbacks (replicas full): raise maxOngoingRequests or the cache size",
            }),
      },
    ],
    charts: [
      {
        name: "hit-rate",
        title: "Prefix-cache hit rate by router",
        spec: groupedBars({
          title: "Prefix-cache hit rate (higher is better)",
          values: rows.flatMap((r) => [
            { router: r["router"], measure: "measured", value: r["hitRate"] },
            { router: r["router"], measure: "ideal", value: r["idealHitRate"] },
          ]),
          x: "router",
          xTitle: "",
          y: "value",
          yTitle: "share of prompt tokens cached",
          color: "measure",
        }),
      },
      {
        name: "latency",
        title: "Latency by router",
        spec: groupedBars({
          title: "Latency, ms (lower is better)",
          values: rows.flatMap((r) => [
            { router: r["router"], percentile: "p50", ms: r["p50Ms"] },
            { router: r["router"], percentile: "p99", ms: r["p99Ms"] },
          ]),
          x: "router",
          xTitle: "",
          y: "ms",
          yTitle: "ms",
          color: "percentile",
        }),
      },
    ],
    notes: [
      "Each router starts with caches that hold none of its prompts (its own namespace), so every row includes the same cold start.",
    ],
  };
}

/** Suite 4: what session affinity buys an LLM with a prefix cache. */
export const llmAffinitySuite: Suite = {
  name: "llm-affinity",
  title: "4. LLM session affinity",
  question:
    "How much of a simulated LLM's prefix cache do multi-turn sessions hit under PowerOfTwo, ConsistentHash and ConsistentHash with loadBound? Target: ConsistentHash's hit rate ≥ 2× PowerOfTwo's at 16 replicas.",
  run,
};
