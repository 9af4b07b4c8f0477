import { describe, expect, it } from "vitest";
import { Zipf } from "./zipf.js";

describe("Zipf", () => {
  it("makes item 0 about twice as popular as item 1 at s = 1 and stays in range", () => {
    const z = new Zipf(50, 1);
    const counts = new Array<number>(50).fill(0);
    for (let i = 0; i < 50_000; i++) counts[z.next()]!++;
    expect(counts[0]! / counts[1]!).toBeGreaterThan(1.7);
    expect(counts[0]! / counts[1]!).toBeLessThan(2.3);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50_000);
    expect(counts[49]).toBeGreaterThan(0);
  });

  it("rejects a bad size or exponent", () => {
    expect(() => new Zipf(0)).toThrow(/integer >= 1, got 0/);
    expect(() => new Zipf(3, -1)).toThrow(/>= 0, got -1/);
  });
});
