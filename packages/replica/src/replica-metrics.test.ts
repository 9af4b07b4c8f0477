import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { processRegistry, type ReplicaSpec } from "@tsserve/protocol/internal";
import { LATENCY_BUCKETS_S, ReplicaMetrics } from "./replica-metrics.js";

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

    // The latency family scrapes as the prom-client Histogram it replaced, fed the same calls.
    const name = "tsserve_replica_processing_latency_seconds";
    const refRegistry = new Registry();
    const ref = new Histogram({
      name,
      help: "Time a replica spent on a request, from acceptance to its final reply",
      labelNames: ["app", "deployment", "replica", "method"],
      buckets: LATENCY_BUCKETS_S,
      registers: [refRegistry],
    });
    const labels = { app: "a", deployment: "D", replica: "r9" };
    for (let i = 0; i < 5; i++) ref.observe({ ...labels, method: "__call__" }, 0.001);
    for (const ms of [0.2, 3, 1000, 450_000]) {
      m.finished("other", false, ms, 0);
      ref.observe({ ...labels, method: "other" }, ms / 1000);
    }
    const refText = await ref.get();
    expect(await processRegistry().getSingleMetric(name)!.get()).toEqual(refText);
    expect(await processRegistry().getSingleMetricAsString(name)).toBe(
      await refRegistry.getSingleMetricAsString(name),
    );
    expect(await processRegistry().getSingleMetricAsString(name)).toContain(
      `${name}_bucket{le="0.005",${base.replace("__call__", "other")}} 2`,
    );
  });
});
