import { describe, expect, it } from "vitest";
import { medianStats, rotate } from "./llm-rounds.js";
import type { RowStats } from "./llm-row.js";

const stats = (hitRate: number, ttftP90Ms: number, errors = 0): RowStats => ({
  calls: 100,
  errors,
  hitRate,
  ttftP50Ms: ttftP90Ms / 2,
  ttftP90Ms,
  latencyP90Ms: ttftP90Ms + 200,
  maxOverMean: 1.05,
  charsPerToken: 3,
});

describe("llm-affinity rounds", () => {
  it("rotates the routers so each round starts with another one", () => {
    const r = ["a", "b", "c"];
    expect(rotate(r, 0)).toEqual(["a", "b", "c"]);
    expect(rotate(r, 1)).toEqual(["b", "c", "a"]);
    expect(rotate(r, 4)).toEqual(["b", "c", "a"]);
    expect(rotate([], 2)).toEqual([]);
  });

  it("takes each metric's median, so one stalled round does not decide the row", () => {
    const m = medianStats([stats(0.9, 18), stats(0.8, 180, 1), stats(0.91, 17)]);
    expect(m.hitRate).toBe(0.9);
    expect(m.ttftP90Ms).toBe(18);
    expect(m.errors).toBe(1);
    expect([m.rounds, m.hitRateMin, m.hitRateMax]).toEqual([3, 0.8, 0.91]);
    expect(() => medianStats([])).toThrow(RangeError);
  });
});
