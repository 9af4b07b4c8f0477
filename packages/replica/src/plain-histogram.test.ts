import { AggregatorRegistry, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PlainHistogram } from "./plain-histogram.js";
import { LATENCY_BUCKETS_S } from "./replica-metrics.js";

const NAME = "t_latency_seconds";
const HELP = "A latency";
// Bounds exactly, between them, 0, below the first, beyond the last, and sums that round.
const VALUES = [0, 0.0005, 0.001, 0.0011, 0.002, 0.1, 0.1 + 1e-12, 0.3, 7, 60, 299.9, 300, 301, 1e6, 0.07];

/** A prom-client Histogram and a PlainHistogram, each in its own registry with the same default labels. */
function pair(): { ref: Registry; plain: Registry; refH: Histogram<string>; plainH: PlainHistogram } {
  const ref = new Registry();
  const plain = new Registry();
  for (const r of [ref, plain]) r.setDefaultLabels({ component: "replica", instance: "r1" });
  const refH = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ["app", "deployment", "replica", "method"],
    buckets: LATENCY_BUCKETS_S,
    registers: [ref],
  });
  const plainH = new PlainHistogram({
    name: NAME,
    help: HELP,
    buckets: LATENCY_BUCKETS_S,
    registers: [plain],
  });
  return { ref, plain, refH, plainH };
}

function feed(refH: Histogram<string>, plainH: PlainHistogram, method: string, values: number[]): void {
  const labels = { app: "a", deployment: 'D"x\\', replica: "r1", method };
  const child = refH.labels(labels);
  const series = plainH.seriesOf(method, labels);
  for (const v of values) {
    child.observe(v);
    series.observe(v);
  }
}

describe("PlainHistogram", () => {
  it("scrapes exactly as prom-client's Histogram fed the same values: text, JSON and aggregated", async () => {
    const { ref, plain, refH, plainH } = pair();
    expect(await plain.metrics()).toBe(await ref.metrics());
    feed(refH, plainH, "__call__", VALUES);
    feed(refH, plainH, "other", VALUES.slice(3, 9));
    const text = await plain.metrics();
    expect(text).toBe(await ref.metrics());
    expect(text).toContain('t_latency_seconds_bucket{le="0.001",component="replica",instance="r1",app="a"');
    expect(await plain.getMetricsAsJSON()).toEqual(await ref.getMetricsAsJSON());
    const [a, b] = [await ref.getMetricsAsJSON(), await plain.getMetricsAsJSON()];
    expect(await AggregatorRegistry.aggregate([b, b]).metrics()).toBe(
      await AggregatorRegistry.aggregate([a, a]).metrics(),
    );
    // Cumulative across scrapes, like the original.
    feed(refH, plainH, "__call__", [0.004]);
    expect(await plain.metrics()).toBe(await ref.metrics());
  });

  it("forgets its series on reset and rejects a value that is not a number, like prom-client", async () => {
    const { ref, plain, refH, plainH } = pair();
    feed(refH, plainH, "m", [0.01]);
    ref.resetMetrics();
    plain.resetMetrics();
    expect(await plain.metrics()).toBe(await ref.metrics());
    expect(() => plainH.seriesOf("m", { method: "m" }).observe(NaN)).toThrow(TypeError);
    expect(() => refH.labels({ method: "m" }).observe(NaN)).toThrow(TypeError);
  });

  it("refuses a second metric of the same name in one registry", () => {
    const { plain } = pair();
    expect(() => new PlainHistogram({ name: NAME, help: HELP, buckets: [1], registers: [plain] })).toThrow(
      /already been registered/,
    );
  });
});
