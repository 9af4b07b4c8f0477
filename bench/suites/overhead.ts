import { connect as natsConnect } from "nats";
import { benchNats } from "../harness/bench-nats.js";
import { groupedBars } from "../harness/charts.js";
import type { Suite, SuiteContext, SuiteResult } from "../harness/suite.js";
import { DEFAULT_CELLS, DEFAULTS_COLUMNS, measureDefaults } from "./overhead-defaults.js";
import { overheadTargets } from "./overhead-targets.js";
import { measureTuned, TUNED_COLUMNS } from "./overhead-tuned.js";

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const defaultsCfg = ctx.quick
    ? { rounds: 4, sliceMs: 500, warmupMs: 300 }
    : { rounds: 6, sliceMs: 700, warmupMs: 400 };
  const tunedCfg = ctx.quick
    ? { replicas: [2], concurrency: [64], rounds: 4, sliceMs: 400, warmupMs: 300 }
    : { replicas: [1, 2, 4], concurrency: [1, 16, 64, 256], rounds: 5, sliceMs: 500, warmupMs: 300 };
  await using nats = await benchNats(ctx);
  const raw = await natsConnect({ servers: nats.url, noAsyncTraces: true });
  try {
    const defaults = await measureDefaults(ctx, nats.url, raw, nats.pids, DEFAULT_CELLS, defaultsCfg);
    const tuned = await measureTuned(ctx, nats.url, raw, nats.pids, tunedCfg);
    return {
      summary:
        "Calls of a ~100-byte JSON echo (`__call__(x)` returns `x`) from one client process at a fixed number of " +
        "concurrent callers (closed loop). **Headline table: the defaults a user gets**: replicas at " +
        "`maxOngoingRequests` 5 and more callers than slots (2 replicas × 64 callers, 1 replica × 16). " +
        "**The limits every ratio divides by** are a hand-written dispatcher on raw NATS, what a handle does minus " +
        "its envelope and bookkeeping: each replica on its own subject, one wildcard inbox subscription, a publish " +
        "with a reply subject per call, each call to the replica with the fewest calls in flight; *dispatcher " +
        "capped* keeps at most 5 in flight per replica and the rest in one FIFO that each reply's freed slot " +
        "serves at once (what `maxOngoingRequests` 5 allows; its latency includes the queue wait), *dispatcher " +
        "uncapped* sends every caller at once to the same replica code at 1024 slots (at 5 the replicas would " +
        "reject: it shows what the cap costs). The `nc.request()` rows (a promise, a timer and a mux entry per " +
        "call; uncapped, and behind a FIFO at 5 per replica) are information: the limit this suite used before. " +
        "The handles (PowerOfTwoChoices; ConsistentHash with session ids s0…s63, one per caller) each run on a " +
        "client of their own so their counters are theirs: rejections per call and, for ConsistentHash, the " +
        "share of calls served by the session's owner (counted over warm-up and slices). " +
        "**Second table**: replicas at `maxOngoingRequests` 1024 (no rejection) against the dispatcher uncapped " +
        "(the limit) and `nc.request()` (information). The modes take turns in short slices so background load " +
        "hits all alike. CPU per call is utime+stime from /proc of the client, every replica and nats-server over " +
        "the measured slices, also shown per process group.",
      config: {
        defaults: { ...defaultsCfg, cells: DEFAULT_CELLS, maxOngoingRequests: 5 },
        tuned: { ...tunedCfg, maxOngoingRequests: 1024 },
        address: nats.local ? "local nats-server" : nats.url,
      },
      columns: DEFAULTS_COLUMNS,
      rows: defaults,
      extraTables: [
        {
          heading: "Replicas at maxOngoingRequests 1024, against the hand-written dispatcher uncapped",
          columns: TUNED_COLUMNS,
          rows: tuned,
        },
      ],
      targets: overheadTargets(defaults, tuned),
      charts: [
        {
          name: "defaults-latency",
          title: "p99 latency at the defaults: handle vs the hand-written dispatcher",
          spec: groupedBars({
            title: "p99 latency µs at maxOngoingRequests 5 (lower is better)",
            values: defaults,
            x: "mode",
            xTitle: "mode",
            y: "p99Us",
            yTitle: "p99 µs",
            color: "mode",
            column: "replicas",
            columnTitle: "replicas",
          }),
        },
        {
          name: "throughput",
          title: "Throughput at maxOngoingRequests 1024: handle vs the hand-written dispatcher",
          spec: groupedBars({
            title: "No-op req/s (higher is better)",
            values: tuned,
            x: "concurrency",
            xTitle: "concurrency",
            y: "reqPerSec",
            yTitle: "req/s",
            color: "mode",
            column: "replicas",
            columnTitle: "replicas",
          }),
        },
      ],
      notes: [
        "The uncapped rows of the defaults table call a second set of the same replicas at maxOngoingRequests 1024 (at 5 they would reject): they show what the cap costs.",
        nats.local ? "" : "nats-server CPU is n/a: the server is remote (--address).",
      ].filter(Boolean),
    };
  } finally {
    await raw.close();
  }
}

/** Suite 1: the cost of a handle over raw NATS request/reply, at the defaults and tuned. */
export const overheadSuite: Suite = {
  name: "overhead",
  title: "1. Overhead: handle vs raw NATS",
  question:
    "What does a call through a DeploymentHandle cost over a hand-written dispatcher on raw NATS to the same replicas? " +
    "At the defaults (maxOngoingRequests 5, 2 replicas, 64 callers), against the dispatcher capped at 5 per replica " +
    "with one FIFO: req/s ≥ 0.95×, p99 ≤ 1.3×, max ≤ 2×, CPU per call ≤ 1.15×, ≤ 0.01 rejections per call, " +
    "ConsistentHash ≥ 0.95× PowerOfTwo. At maxOngoingRequests 1024 against the dispatcher uncapped: req/s ≥ 0.9×, " +
    "CPU per call ≤ 1.2×.",
  run,
};
