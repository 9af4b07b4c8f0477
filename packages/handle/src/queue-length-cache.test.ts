import { describe, expect, it } from "vitest";
import { QueueLengthCache } from "./queue-length-cache.js";

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("QueueLengthCache", () => {
  it("returns what was set until the entry is older than the TTL", () => {
    const c = clock();
    const cache = new QueueLengthCache(10_000, c.now);
    expect(cache.get("r1")).toBeUndefined();
    cache.set("r1", 3);
    expect(cache.get("r1")).toBe(3);
    c.advance(10_000);
    expect(cache.get("r1")).toBe(3);
    c.advance(1);
    expect(cache.get("r1")).toBeUndefined();
  });

  it("adds one on send and subtracts one on completion, floored at 0", () => {
    const cache = new QueueLengthCache(10_000, clock().now);
    cache.set("r1", 1);
    cache.increment("r1");
    expect(cache.get("r1")).toBe(2);
    cache.decrement("r1");
    cache.decrement("r1");
    cache.decrement("r1");
    expect(cache.get("r1")).toBe(0);
  });

  it("leaves unknown entries unknown on increment and decrement", () => {
    const cache = new QueueLengthCache(10_000, clock().now);
    cache.increment("r1");
    cache.decrement("r2");
    expect(cache.get("r1")).toBeUndefined();
    expect(cache.get("r2")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("skips the decrement of an expired entry", () => {
    const c = clock();
    const cache = new QueueLengthCache(100, c.now);
    cache.set("r1", 4);
    c.advance(101);
    cache.decrement("r1");
    expect(cache.get("r1")).toBeUndefined();
  });

  it("prunes entries of replicas that left and invalidates single entries", () => {
    const cache = new QueueLengthCache(10_000, clock().now);
    cache.set("r1", 1);
    cache.set("r2", 2);
    cache.set("r3", 3);
    cache.prune(new Set(["r2", "r3"]));
    expect(cache.get("r1")).toBeUndefined();
    expect(cache.get("r2")).toBe(2);
    cache.invalidate("r3");
    expect(cache.get("r3")).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
