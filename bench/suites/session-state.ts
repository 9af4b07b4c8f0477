import { performance } from "node:perf_hooks";
import { connect as natsConnect } from "nats";
import { encode } from "@tsserve/protocol/internal";
import { measureInterleaved, pairedRatio, type Mode } from "../harness/interleaved-runs.js";
import { measureHandoff } from "../harness/session-handoff.js";
import { measureSpill } from "../harness/session-spill.js";
import {
  counterSpec,
  startSessionBenchCluster,
  type SessionBenchCluster,
  type StateMode,
} from "../harness/session-bench-cluster.js";
import { percentiles, round } from "../harness/stats.js";
import type { Row, Suite, SuiteContext, SuiteResult } from "../harness/suite.js";
import { sessionTargets } from "./session-state-targets.js";

const MODES: readonly StateMode[] = ["none", "memory", "durable"];
const REPLICAS = 2;
const CONCURRENCY = 64;

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const cfg = ctx.quick
    ? { rounds: 2, sliceMs: 1000, latencyCalls: 200, latencyRounds: 3, moveSessions: 100 }
    : { rounds: 9, sliceMs: 1500, latencyCalls: 300, latencyRounds: 5, moveSessions: 300 };
  await using c = await startSessionBenchCluster(ctx.benchDir);
  for (const m of MODES) await c.deploy(`st-${m}`, m, REPLICAS);
  const rows: Row[] = [];

  ctx.log(`req/s at the defaults: ${MODES.join(", ")}, ${REPLICAS} replicas each, c=${CONCURRENCY}`);
  const modes: Mode[] = MODES.map((m) => {
    const h = c.handle(`st-${m}`);
    return { name: m, call: (w) => h.options({ sessionId: `s${w}` }).bump.remote() };
  });
  const pids = {
    client: [process.pid],
    replicas: await c.replicaPids(MODES.map((m) => `st-${m}`)),
    server: c.cluster.pids.nats === null ? [] : [c.cluster.pids.nats],
  };
  const tput = await measureInterleaved(modes, {
    concurrency: CONCURRENCY,
    rounds: cfg.rounds,
    sliceMs: cfg.sliceMs,
    warmupMs: 1000,
    sliceWarmupMs: 300,
    cpuGroups: pids,
  });
  const none = tput.find((t) => t.mode === "none")!;
  for (const t of tput)
    rows.push({
      measure: `req/s, c=${CONCURRENCY}, ${REPLICAS} replicas`,
      mode: t.mode,
      value: Math.round(t.throughput),
      vsNone: round(t.throughput / none.throughput, 3),
      vsNonePaired: round(pairedRatio(t, none), 3),
      cpuUsPerCall: t.cpuUsPerCall === null ? null : round(t.cpuUsPerCall, 1),
      p50Ms: round(t.latencyUs.p50 / 1000, 2),
      p99Ms: round(t.latencyUs.p99 / 1000, 2),
      errors: Object.values(t.errors).reduce((a, b) => a + b, 0),
    });

  ctx.log("write-through: one caller, raw KV update vs a call with and without state");
  rows.push(...(await writeThrough(c, cfg.latencyCalls, cfg.latencyRounds)));

  // Without state too: the pause a move costs a session anyway (new routes, a cold replica), the
  // baseline of the stateful rows; its counters break by design (the Map stays behind).
  for (const mode of MODES) {
    const app = `move-${mode}`;
    await c.deploy(app, mode, 4);
    const steps: [string, number, string][] = [
      ["scale 4 → 5", 5, "b1"],
      ["scale 5 → 4", 4, "b1"],
      ["rolling update", 4, "b2"],
    ];
    for (const [name, n, version] of steps) {
      ctx.log(`hand-off pause, ${mode}: ${name}, ${cfg.moveSessions} sessions`);
      const m = await measureHandoff(
        c.handle(app),
        { sessions: cfg.moveSessions, pauseMs: 100, warmMs: 1500, settleMs: 1500 },
        async () => {
          await c.cluster.client.deploy({
            applications: [counterSpec(ctx.benchDir, app, mode, n, version)],
          });
          await c.waitSettled(app, n, version);
        },
      );
      const p = percentiles(m.pausesMs);
      rows.push({
        measure: `hand-off pause per moved session, ${name}`,
        mode,
        value: m.moved,
        p50Ms: round(p.p50, 1),
        p99Ms: round(p.p99, 1),
        maxMs: round(p.max, 1),
        baselineP50Ms: round(m.baselineP50Ms, 2),
        counterBreaks: m.counterBreaks,
        errors: Object.values(m.errors).reduce((a, b) => a + b, 0),
      });
    }
    await c.cluster.client.delete(app);
  }

  for (const spill of ["wait", "move"] as const) {
    const app = `spill-${spill}`;
    ctx.log(`spill ${spill}: quiet sessions of an owner whose slots other sessions hold`);
    await c.cluster.client.deploy({
      applications: [counterSpec(ctx.benchDir, app, "memory", REPLICAS, "b1", spill)],
    });
    await c.waitSettled(app, REPLICAS, "b1");
    const m = await measureSpill(c.handle(app), {
      rounds: ctx.quick ? 3 : 8,
      perRound: 3,
      holdMs: 300,
      slots: 5,
    });
    rows.push({
      measure: "spilled call, owner full of other sessions' 300 ms calls",
      mode: `memory, spill "${spill}"`,
      value: round(m.ranElsewhere, 2),
      p50Ms: round(m.spilledMs.p50, 1),
      p99Ms: round(m.spilledMs.p99, 1),
      maxMs: round(m.spilledMs.max, 1),
      nextP50Ms: round(m.nextMs.p50, 1),
      counterBreaks: m.counterBreaks,
    });
    await c.cluster.client.delete(app);
  }
  return result(rows, cfg);
}

/** p50 of sequential calls: a raw KV update round trip, and one caller's calls in each mode. */
async function writeThrough(c: SessionBenchCluster, calls: number, rounds: number): Promise<Row[]> {
  const nc = await natsConnect({ servers: c.cluster.address, noAsyncTraces: true });
  const kv = await nc.jetstream().views.kv("bench_session_raw", { history: 1 });
  const value = encode({ n: 0, note: "x".repeat(80) });
  let revision = await kv.put("k", value);
  const lat: Record<string, number[]> = { raw: [], none: [], memory: [], durable: [] };
  const handles = Object.fromEntries(MODES.map((m) => [m, c.handle(`st-${m}`)]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        revision = await kv.update("k", value, revision);
        lat["raw"]!.push(performance.now() - t);
      }
      for (const m of MODES) {
        const h = handles[m]!.options({ sessionId: `wt-${m}` });
        for (let i = 0; i < calls; i++) {
          const t = performance.now();
          await h.bump.remote();
          lat[m]!.push(performance.now() - t);
        }
      }
    }
  } finally {
    await kv.destroy().catch(() => undefined);
    await nc.close();
  }
  const p50 = (xs: number[]): number => percentiles(xs).p50;
  const raw = p50(lat["raw"]!);
  const base = p50(lat["none"]!);
  return [
    { measure: "one caller, p50 ms per call", mode: "raw KV update", value: round(raw, 3) },
    ...MODES.map((m) => ({
      measure: "one caller, p50 ms per call",
      mode: m,
      value: round(p50(lat[m]!), 3),
      addedMs: m === "none" ? null : round(p50(lat[m]!) - base, 3),
      addedVsKv: m === "none" ? null : round((p50(lat[m]!) - base) / raw, 2),
    })),
  ];
}

function result(rows: Row[], cfg: Record<string, unknown>): SuiteResult {
  return {
    summary:
      "A local cluster (controller, one agent, embedded nats-server with JetStream) serves a Counter deployment at the " +
      "defaults (maxOngoingRequests 5, ConsistentHash) three ways: *none* keeps each session's counter in a Map of its " +
      "own (no `sessionState`: today's behaviour), *memory* and *durable* through `getSessionState()`. Each call reads " +
      "the ~100-byte state and sets the next. **req/s**: closed loops of 64 callers, one session each, the modes taking " +
      "turns in slices. **Write-through**: one caller, sequential calls; *raw KV update* is a JetStream KV `update` " +
      "(revision compare-and-set) of the same bytes from the bench process, the round trip durable mode adds at best; " +
      "*added* is a mode's p50 minus *none*'s. **Hand-off pause**: sessions each call every 100 ms while the " +
      "deployment (4 replicas) scales 4 → 5, 5 → 4 and rolls to a new version; a moved session's pause is the latency " +
      "of its first call on the new owner (it waits for the hand-off); counter breaks are calls whose counter did not " +
      "continue (state lost or stale: must be 0 with state; *none* shows the move's own cost and breaks by design). " +
      '**Spill**: `sessionState.spill` "wait" against "move" (memory, 2 replicas): 5 calls of busy sessions hold ' +
      "their owner's 5 slots for 300 ms; 50 ms later 3 quiet sessions of that owner call once each (fresh ones every " +
      "round); *value* is the share of those calls that ran on the other replica, p50/p99 their latency, *next call* the " +
      "latency of each quiet session's following call.",
    config: { ...cfg, replicas: REPLICAS, concurrency: CONCURRENCY },
    columns: [
      { key: "measure", label: "measure" },
      { key: "mode", label: "mode" },
      { key: "value", label: "value (req/s, ms, or moved sessions)" },
      { key: "vsNone", label: "÷ none", digits: 3 },
      { key: "vsNonePaired", label: "÷ none, median of rounds", digits: 3 },
      { key: "cpuUsPerCall", label: "CPU µs/call (all)", digits: 1 },
      { key: "addedMs", label: "added ms", digits: 3 },
      { key: "addedVsKv", label: "added ÷ KV update", digits: 2 },
      { key: "p50Ms", label: "p50 ms", digits: 1 },
      { key: "p99Ms", label: "p99 ms", digits: 1 },
      { key: "maxMs", label: "max ms", digits: 1 },
      { key: "baselineP50Ms", label: "p50 ms with no move", digits: 2 },
      { key: "nextP50Ms", label: "next call p50 ms", digits: 1 },
      { key: "counterBreaks", label: "counter breaks" },
      { key: "errors", label: "errors" },
    ],
    rows,
    targets: sessionTargets(rows),
    charts: [],
    notes: [
      "Deployments without `sessionState` are measured against raw NATS by the overhead suite; this suite's *none* row " +
        "is that same code path.",
    ],
  };
}

/** Suite: what session state costs, and how long a move pauses a session. */
export const sessionStateSuite: Suite = {
  name: "session-state",
  title: "8. Session state: hand-off pause and write-through cost",
  question:
    "What does per-session state cost? Targets: hand-off pause per moved session p99 ≤ 200 ms; durable write-through " +
    "adds ≤ 1.3× a raw JetStream KV update round trip per call; memory mode with no move ≥ 0.95× the req/s of no state.",
  run,
};
