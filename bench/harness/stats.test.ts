import { describe, expect, it } from "vitest";
import { coefficientOfVariation, maxOverMean, mean, percentiles, quantile, ratio, round } from "./stats.js";

describe("stats", () => {
  it("takes nearest-rank quantiles, so p99 is a value some request really saw", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(v, 0.5)).toBe(50);
    expect(quantile(v, 0.99)).toBe(99);
    expect(quantile(v, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("sorts numerically, not as strings", () => {
    expect(percentiles([10, 9, 100, 1]).max).toBe(100);
    expect(percentiles([10, 9, 100, 1]).p50).toBe(9);
  });

  it("computes mean, CV and max/mean of a spread", () => {
    expect(mean([1, 2, 3])).toBe(2);
    expect(coefficientOfVariation([5, 5, 5])).toBe(0);
    expect(coefficientOfVariation([0, 10])).toBeCloseTo(1);
    expect(maxOverMean([1, 1, 4])).toBe(2);
  });

  it("returns NaN instead of Infinity for ratios over zero", () => {
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
    expect(round(1.23456, 2)).toBe(1.23);
  });
});
