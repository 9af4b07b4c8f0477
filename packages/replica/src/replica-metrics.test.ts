import { describe, expect, it } from "vitest";
import { processRegistry, type ReplicaSpec } from "@tsserve/protocol/internal";
import { ReplicaMetrics } from "./replica-metrics.js";

function value(text: string, series: string): number | undefined {
  const l = text.split("\n").find((x) => x.startsWith(series + " "));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
}

describe("ReplicaMetrics", () => {
  it("counts every finished call once across scrapes, and errors only when there are some", async () => {
    const m = new ReplicaMetrics({ app: "a", deployment: "D", replicaId: "r9" } as ReplicaSpec);
    const base = 'app="a",deployment="D",replica="r9",method="__call__"';
    for (let i = 0; i < 3; i++) m.finished("__call__", false, 1, 0);
    let text = await processRegistry().metrics();
    expect(value(text, `tsserve_replica_requests_total{${base}}`)).toBe(3);
    expect(value(text, `tsserve_replica_errors_total{${base}}`)).toBeUndefined();
    expect(value(text, `tsserve_replica_processing_latency_seconds_count{${base}}`)).toBe(3);
    m.finished("__call__", true, 1, 0);
    m.finished("__call__", false, 1, 0);
    text = await processRegistry().metrics();
    expect(value(text, `tsserve_replica_requests_total{${base}}`)).toBe(5);
    expect(value(text, `tsserve_replica_errors_total{${base}}`)).toBe(1);
    text = await processRegistry().metrics();
    expect(value(text, `tsserve_replica_requests_total{${base}}`)).toBe(5);
  });
});
