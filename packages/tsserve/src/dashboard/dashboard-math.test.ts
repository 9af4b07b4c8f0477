import { describe, expect, it } from "vitest";
import { hashKeyBigInt } from "@tsserve/handle/internal";
import { quantile, sampleOf, statsBetween } from "./deployment-stats.js";
import type { MetricFamily } from "./metrics-collector.js";
import { ringShares } from "./ring-view.js";

describe("ringShares", () => {
  it("gives each replica the share of the hash space it owns, matching where keys land", () => {
    const ids = ["A-1", "A-2", "A-3"];
    const shares = ringShares(ids, 100, new Map([["A-2", 7]]));
    expect(shares.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 5);
    expect(shares.find((r) => r.replicaId === "A-2")!.sessions).toBe(7);
    // Owner = first point strictly above the key's hash, as ConsistentHashRouter; 6000 keys.
    const points = ids
      .flatMap((id) => Array.from({ length: 100 }, (_, i) => ({ h: hashKeyBigInt(`${id}:${i}`), id })))
      .sort((a, b) => (a.h < b.h ? -1 : 1));
    const counts = new Map(ids.map((id) => [id, 0]));
    for (let k = 0; k < 6000; k++) {
      const h = hashKeyBigInt(`session-${k}`);
      const owner = points.find((p) => p.h > h) ?? points[0]!;
      counts.set(owner.id, counts.get(owner.id)! + 1);
    }
    for (const r of shares) expect(counts.get(r.replicaId)! / 6000).toBeCloseTo(r.share, 1);
  });
});

describe("deployment stats from collected metrics", () => {
  const family = (requests: number, buckets: [number | "+Inf", number][]): MetricFamily[][] => [
    [
      {
        name: "tsserve_replica_requests_total",
        help: "",
        type: "counter",
        values: [{ value: requests, labels: { app: "a", deployment: "D", replica: "D-1", method: "m" } }],
      },
      {
        name: "tsserve_replica_processing_latency_seconds",
        help: "",
        type: "histogram",
        values: buckets.map(([le, value]) => ({
          value,
          labels: { app: "a", deployment: "D", le },
          metricName: "tsserve_replica_processing_latency_seconds_bucket",
        })),
      },
    ],
  ];

  it("turns two samples into a request rate and latency quantiles of the window", () => {
    const prev = sampleOf(
      family(10, [
        [0.01, 10],
        [0.1, 10],
        ["+Inf", 10],
      ]),
      0,
    );
    const cur = sampleOf(
      family(30, [
        [0.01, 20],
        [0.1, 30],
        ["+Inf", 30],
      ]),
      2000,
    );
    const [s] = statsBetween(prev, cur);
    expect(s).toMatchObject({ app: "a", deployment: "D", requestRate: 10, requests: 30 });
    // 20 new requests: 10 under 10 ms, 10 between 10 and 100 ms → p50 at 10 ms, p95 at 91 ms.
    expect(s!.p50Ms).toBeCloseTo(10, 5);
    expect(s!.p95Ms).toBeCloseTo(91, 5);
  });

  it("has no quantile without requests", () => {
    expect(quantile(0.5, new Map([[Infinity, 0]]))).toBeNull();
  });
});
