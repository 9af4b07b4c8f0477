import type { Column } from "../harness/suite.js";

/** The overhead suite's application and deployment (the no-op fixture). */
export const APP = "bench-overhead";
export const DEPLOYMENT = "Noop";

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
