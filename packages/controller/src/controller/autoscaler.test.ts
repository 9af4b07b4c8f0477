import { describe, expect, it } from "vitest";
import type { ResolvedAutoscaling } from "@tsserve/protocol/internal";
import { Autoscaler } from "./autoscaler.js";

const config: ResolvedAutoscaling = {
  minReplicas: 1,
  maxReplicas: 4,
  initialReplicas: 1,
  targetOngoingRequests: 2,
  upscaleDelayMs: 500,
  downscaleDelayMs: 1000,
  lookBackPeriodMs: 0,
};

describe("Autoscaler", () => {
  it("scales to ceil(load / target) only after the upscale delay held", () => {
    const a = new Autoscaler();
    a.recordHandle("d", "h1", 7, 0);
    expect(a.decide("d", { config, current: 1, replicaOngoing: 0, now: 0 })).toBe(1);
    a.recordHandle("d", "h1", 7, 400);
    expect(a.decide("d", { config, current: 1, replicaOngoing: 0, now: 400 })).toBe(1);
    a.recordHandle("d", "h1", 7, 600);
    expect(a.decide("d", { config, current: 1, replicaOngoing: 0, now: 600 })).toBe(4);
  });

  it("clamps to maxReplicas and sums handles", () => {
    const a = new Autoscaler();
    a.recordHandle("d", "h1", 10, 0);
    a.recordHandle("d", "h2", 10, 0);
    const c = { ...config, upscaleDelayMs: 0 };
    expect(a.decide("d", { config: c, current: 1, replicaOngoing: 0, now: 0 })).toBe(4);
  });

  it("uses replica ongoing counts when no handle reports, and scales down after the delay", () => {
    const a = new Autoscaler();
    expect(a.decide("d", { config, current: 4, replicaOngoing: 0, now: 0 })).toBe(4);
    expect(a.decide("d", { config, current: 4, replicaOngoing: 0, now: 900 })).toBe(4);
    expect(a.decide("d", { config, current: 4, replicaOngoing: 0, now: 1001 })).toBe(1);
  });

  it("restarts the wait when the direction changes", () => {
    const a = new Autoscaler();
    expect(a.decide("d", { config, current: 2, replicaOngoing: 0, now: 0 })).toBe(2);
    expect(a.decide("d", { config, current: 2, replicaOngoing: 8, now: 800 })).toBe(2);
    expect(a.decide("d", { config, current: 2, replicaOngoing: 0, now: 1200 })).toBe(2);
    expect(a.decide("d", { config, current: 2, replicaOngoing: 0, now: 2201 })).toBe(1);
  });

  it("ignores stale handle metrics", () => {
    const a = new Autoscaler();
    a.recordHandle("d", "gone", 20, 0);
    const c = { ...config, upscaleDelayMs: 0 };
    expect(a.decide("d", { config: c, current: 1, replicaOngoing: 0, now: 5000 })).toBe(1);
  });

  it("goes from 0 to at least 1 at once when requests wait (cold start)", () => {
    const a = new Autoscaler();
    a.recordHandle("d", "h", 1, 0);
    const c = { ...config, minReplicas: 0, upscaleDelayMs: 60_000 };
    expect(a.decide("d", { config: c, current: 0, replicaOngoing: 0, now: 0 })).toBe(1);
  });
});
