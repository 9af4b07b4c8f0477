import type { ModeMeasurement } from "../harness/interleaved-runs.js";
import { round } from "../harness/stats.js";
import type { Column } from "../harness/suite.js";

/** The overhead suite's application and deployment (the no-op fixture). */
export const APP = "bench-overhead";
export const DEPLOYMENT = "Noop";

/**
 * The argument every overhead call sends and gets back (the Noop fixture echoes it): a small JSON
 * object of about 100 bytes, what a user's first call looks like.
 */
export const ECHO_ARGS: unknown[] = [
  { id: 4711, user: "ada@example.com", action: "lookup", tags: ["a", "b", "c"], score: 0.75, ok: true },
];

/** Slices of an interleaved measurement (see `measureInterleaved`). */
export interface SliceConfig {
  rounds: number;
  sliceMs: number;
  warmupMs: number;
}

/** The columns both overhead tables start with; `callers` names the concurrency column. */
export function leadColumns(callers: string): Column[] {
  return [
    { key: "replicas", label: "replicas" },
    { key: "concurrency", label: callers },
    { key: "mode", label: "mode" },
    { key: "reqPerSec", label: "req/s" },
    { key: "p50Us", label: "p50 µs" },
    { key: "p99Us", label: "p99 µs" },
  ];
}

/** CPU µs per successful call of each process group (client, replicas, nats-server). */
export function cpuPerCall(m: ModeMeasurement): {
  clientUs: number | null;
  replicasUs: number | null;
  serverUs: number | null;
} {
  const per = (g: string): number | null => {
    const v = m.cpuSeconds[g];
    return v === null || v === undefined || m.ok === 0 ? null : round((v * 1e6) / m.ok, 1);
  };
  return { clientUs: per("client"), replicasUs: per("replicas"), serverUs: per("server") };
}
