import type { NatsConnection } from "nats";
import { connect, staticMembership } from "@tsserve/handle";
import { DEFAULT_PREFIX, requestSubject } from "@tsserve/protocol/internal";
import {
  measureInterleaved,
  pairedRatio,
  type Mode,
  type ModeMeasurement,
} from "../harness/interleaved-runs.js";
import { startLocalReplicas } from "../harness/local-replicas.js";
import { rawDispatcherMode } from "../harness/raw-dispatcher.js";
import { rawRequestMode } from "../harness/raw-nats.js";
import { ratio, round } from "../harness/stats.js";
import type { Column, Row, SuiteContext } from "../harness/suite.js";
import { APP, cpuPerCall, DEPLOYMENT, ECHO_ARGS, leadColumns, type SliceConfig } from "./overhead-common.js";

const ROUTERS = { PowerOfTwo: "PowerOfTwoChoices", ConsistentHash: "ConsistentHash" } as const;

/** Matrix and slices of the tuned table. */
export interface TunedConfig extends SliceConfig {
  replicas: number[];
  concurrency: number[];
}

/** Columns of the tuned (`maxOngoingRequests` 1024) table. */
export const TUNED_COLUMNS: Column[] = [
  ...leadColumns("concurrency"),
  { key: "cpuUs", label: "CPU µs/req", digits: 1 },
  { key: "clientUs", label: "client", digits: 1 },
  { key: "replicasUs", label: "replicas", digits: 1 },
  { key: "serverUs", label: "nats-server", digits: 1 },
  { key: "tputVsLimit", label: "req/s ÷ dispatcher", digits: 2 },
  { key: "tputVsLimitPaired", label: "req/s ÷ dispatcher, paired", digits: 2 },
  { key: "cpuVsLimit", label: "CPU ÷ dispatcher", digits: 2 },
  { key: "tputVsRequest", label: "req/s ÷ request()", digits: 2 },
  { key: "cpuVsRequest", label: "CPU ÷ request()", digits: 2 },
  { key: "spreadPct", label: "slice spread %", digits: 1 },
  { key: "errors", label: "errors" },
];

/**
 * The per-call cost with replica-side rejection out of the way: replicas at
 * `maxOngoingRequests` 1024 against the hand-written raw NATS dispatcher uncapped (the limit the
 * ratios divide by) and `nc.request()` (information).
 */
export async function measureTuned(
  ctx: SuiteContext,
  address: string,
  raw: NatsConnection,
  serverPids: number[],
  cfg: TunedConfig,
): Promise<Row[]> {
  const client = await connect({ address });
  const rows: Row[] = [];
  try {
    for (const count of cfg.replicas) {
      ctx.log(`starting ${count} replica(s)`);
      const set = await startLocalReplicas({
        address,
        app: APP,
        deployment: DEPLOYMENT,
        importPath: "fixtures/bench-apps.ts#noop",
        cwd: ctx.benchDir,
        count,
      });
      try {
        const subjects = set.replicas.map((r) =>
          requestSubject(DEFAULT_PREFIX, APP, DEPLOYMENT, r.replicaId),
        );
        const modes: Mode[] = [
          rawDispatcherMode(raw, subjects, { args: ECHO_ARGS }),
          rawRequestMode(raw, subjects, ECHO_ARGS),
        ];
        for (const [label, cls] of Object.entries(ROUTERS)) {
          const membership = staticMembership({
            replicas: set.replicas,
            config: { maxOngoingRequests: 1024, requestRouter: { class: cls, kwargs: {} } },
          });
          const handle = client.getDeploymentHandle(DEPLOYMENT, { app: `${APP}`, membership });
          modes.push({ name: `handle ${label}`, call: () => handle.remote(...ECHO_ARGS) });
        }
        for (const c of cfg.concurrency) {
          ctx.log(`tuned: ${count} replica(s), concurrency ${c}`);
          const ms = await measureInterleaved(modes, {
            concurrency: c,
            rounds: cfg.rounds,
            sliceMs: cfg.sliceMs,
            warmupMs: cfg.warmupMs,
            cpuGroups: { client: [process.pid], replicas: set.pids, server: serverPids },
          });
          const limit = ms[0]!;
          const request = ms[1]!;
          const cpuRatio = (m: ModeMeasurement, base: ModeMeasurement): number | null =>
            base.cpuUsPerCall === null || m.cpuUsPerCall === null
              ? null
              : round(m.cpuUsPerCall / base.cpuUsPerCall, 3);
          for (const m of ms) {
            rows.push({
              replicas: count,
              concurrency: c,
              mode: m.mode,
              reqPerSec: Math.round(m.throughput),
              p50Us: Math.round(m.latencyUs.p50),
              p99Us: Math.round(m.latencyUs.p99),
              cpuUs: m.cpuUsPerCall === null ? null : round(m.cpuUsPerCall, 1),
              ...cpuPerCall(m),
              tputVsLimit: round(ratio(m.throughput, limit.throughput), 3),
              tputVsLimitPaired: round(pairedRatio(m, limit), 3),
              cpuVsLimit: cpuRatio(m, limit),
              tputVsRequest: round(ratio(m.throughput, request.throughput), 3),
              cpuVsRequest: cpuRatio(m, request),
              spreadPct: round(m.sliceCv * 100, 1),
              errors: Object.values(m.errors).reduce((a, b) => a + b, 0),
            });
          }
        }
      } finally {
        await set.stop();
      }
    }
  } finally {
    await client.close();
  }
  return rows;
}
