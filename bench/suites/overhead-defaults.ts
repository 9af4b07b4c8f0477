import type { NatsConnection } from "nats";
import { DEFAULT_MAX_ONGOING_REQUESTS, DEFAULT_PREFIX, requestSubject } from "@tsserve/protocol/internal";
import { countingHandle, type CountingHandle } from "../harness/counting-client.js";
import {
  measureInterleaved,
  pairedRatio,
  type Mode,
  type ModeMeasurement,
} from "../harness/interleaved-runs.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { rawCappedMode } from "../harness/raw-capped.js";
import { rawDispatcherMode } from "../harness/raw-dispatcher.js";
import { rawRequestMode } from "../harness/raw-nats.js";
import { ratio, round } from "../harness/stats.js";
import type { Column, Row, SuiteContext } from "../harness/suite.js";
import { APP, cpuPerCall, DEPLOYMENT, ECHO_ARGS, leadColumns, type SliceConfig } from "./overhead-common.js";

/** One cell of the defaults table: replicas × concurrent callers, more callers than slots. */
export interface DefaultsCell {
  replicas: number;
  concurrency: number;
}

/** The cells the issue names: 2 replicas × 64 callers (6.4× the slots), 1 replica × 16 (3.2×). */
export const DEFAULT_CELLS: readonly DefaultsCell[] = [
  { replicas: 2, concurrency: 64 },
  { replicas: 1, concurrency: 16 },
];

/** Measurement settings shared by the cells. */
export type DefaultsConfig = SliceConfig;

/** Columns of the defaults table. */
export const DEFAULTS_COLUMNS: Column[] = [
  ...leadColumns("callers"),
  { key: "maxUs", label: "max µs" },
  { key: "cpuUs", label: "CPU µs/call", digits: 1 },
  { key: "clientUs", label: "client", digits: 1 },
  { key: "replicasUs", label: "replicas", digits: 1 },
  { key: "serverUs", label: "nats-server", digits: 1 },
  { key: "rejectionsPerCall", label: "rejections/call", digits: 4 },
  { key: "ownerShare", label: "on owner", digits: 4 },
  { key: "tputVsCapped", label: "req/s ÷ capped", digits: 2 },
  { key: "tputVsCappedPaired", label: "req/s ÷ capped, paired", digits: 2 },
  { key: "p99VsCapped", label: "p99 ÷ capped", digits: 2 },
  { key: "maxVsCapped", label: "max ÷ capped", digits: 2 },
  { key: "cpuVsCapped", label: "CPU ÷ capped", digits: 2 },
  { key: "tputVsUncapped", label: "req/s ÷ uncapped", digits: 2 },
  { key: "errors", label: "errors" },
];

/** Index of each mode in a cell's run (the ratios divide by the hand-written dispatcher's rows). */
const DISPATCHER_UNCAPPED = 2;
const DISPATCHER_CAPPED = 3;
const CH_MODE = 5;

/**
 * The headline rows: replicas at the defaults a user gets (`maxOngoingRequests` 5) and more
 * callers than slots, against the hand-written raw NATS dispatcher uncapped and capped at 5 per
 * replica (the limits every ratio divides by), with `nc.request()` uncapped and behind the same
 * FIFO cap as information, in one interleaved run per cell.
 */
export async function measureDefaults(
  ctx: SuiteContext,
  address: string,
  raw: NatsConnection,
  serverPids: number[],
  cells: readonly DefaultsCell[],
  cfg: DefaultsConfig,
): Promise<Row[]> {
  const rows: Row[] = [];
  const max = DEFAULT_MAX_ONGOING_REQUESTS;
  for (const cell of cells) {
    ctx.log(`defaults: ${cell.replicas} replica(s) × maxOngoingRequests ${max}, ${cell.concurrency} callers`);
    const set = await startLocalReplicas({
      address,
      app: APP,
      deployment: DEPLOYMENT,
      importPath: "fixtures/bench-apps.ts#noop",
      cwd: ctx.benchDir,
      count: cell.replicas,
      options: { maxOngoingRequests: max },
    });
    // The uncapped limit needs replicas that accept every caller: the same code at 1024 slots.
    const wide = await startLocalReplicas({
      address,
      app: `${APP}-uncapped`,
      deployment: DEPLOYMENT,
      importPath: "fixtures/bench-apps.ts#noop",
      cwd: ctx.benchDir,
      count: cell.replicas,
      idPrefix: "wide-r",
      options: { maxOngoingRequests: 1024 },
    });
    const handles: CountingHandle[] = [];
    try {
      const wideSubjects = wide.replicas.map((r) =>
        requestSubject(DEFAULT_PREFIX, `${APP}-uncapped`, DEPLOYMENT, r.replicaId),
      );
      const subjects = set.replicas.map((r) => requestSubject(DEFAULT_PREFIX, APP, DEPLOYMENT, r.replicaId));
      const p2c = await countingHandle(address, APP, DEPLOYMENT, set.replicas, {
        maxOngoingRequests: max,
        requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
      });
      const ch = await countingHandle(address, APP, DEPLOYMENT, set.replicas, {
        maxOngoingRequests: max,
        requestRouter: { class: "ConsistentHash", kwargs: {} },
      });
      handles.push(p2c, ch);
      const modes: Mode[] = [
        { ...rawRequestMode(raw, wideSubjects, ECHO_ARGS), name: "raw request() uncapped" },
        {
          ...rawCappedMode(raw, subjects, max, ECHO_ARGS),
          name: `raw request() capped (FIFO, ${max}/replica)`,
        },
        rawDispatcherMode(raw, wideSubjects, { args: ECHO_ARGS }),
        rawDispatcherMode(raw, subjects, { perResponder: max, args: ECHO_ARGS }),
        p2c.mode("handle PowerOfTwo", undefined, ECHO_ARGS),
        ch.mode("handle ConsistentHash (sessions)", (w) => `s${w}`, ECHO_ARGS),
      ];
      const ms = await measureInterleaved(modes, {
        concurrency: cell.concurrency,
        ...cfg,
        cpuGroups: { client: [process.pid], replicas: [...set.pids, ...wide.pids], server: serverPids },
      });
      rows.push(...defaultsRows(cell, ms, [null, null, null, null, p2c, ch]));
    } finally {
      for (const h of handles) await h.client.close();
      await set.stop();
      await wide.stop();
    }
  }
  return rows;
}

function defaultsRows(cell: DefaultsCell, ms: ModeMeasurement[], handles: (CountingHandle | null)[]): Row[] {
  const uncapped = ms[DISPATCHER_UNCAPPED]!;
  const capped = ms[DISPATCHER_CAPPED]!;
  return ms.map((m, i) => {
    const h = handles[i] ?? null;
    const routed = h?.counts.routed ?? 0;
    const cpuVs =
      capped.cpuUsPerCall === null || m.cpuUsPerCall === null
        ? null
        : round(m.cpuUsPerCall / capped.cpuUsPerCall, 3);
    return {
      replicas: cell.replicas,
      concurrency: cell.concurrency,
      mode: m.mode,
      reqPerSec: Math.round(m.throughput),
      p50Us: Math.round(m.latencyUs.p50),
      p99Us: Math.round(m.latencyUs.p99),
      maxUs: Math.round(m.latencyUs.max),
      cpuUs: m.cpuUsPerCall === null ? null : round(m.cpuUsPerCall, 1),
      ...cpuPerCall(m),
      rejectionsPerCall: h === null || routed === 0 ? null : round(h.counts.rejected / routed, 4),
      ownerShare:
        h === null || i !== CH_MODE || routed === 0 ? null : round(h.counts.onFirstRank / routed, 4),
      tputVsCapped: round(ratio(m.throughput, capped.throughput), 3),
      tputVsCappedPaired: round(pairedRatio(m, capped), 3),
      p99VsCapped: round(ratio(m.latencyUs.p99, capped.latencyUs.p99), 3),
      maxVsCapped: round(ratio(m.latencyUs.max, capped.latencyUs.max), 3),
      cpuVsCapped: cpuVs,
      tputVsUncapped: round(ratio(m.throughput, uncapped.throughput), 3),
      errors: Object.values(m.errors).reduce((a, b) => a + b, 0),
    };
  });
}
