import { describe, expect, it } from "vitest";
import { HashRing } from "./hash-ring.js";
import { hashKeyBigInt } from "./murmur3.js";

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `replica-${from + i}`);

/** The ring as (hash, replica id) pairs, for comparing rings built along different paths. */
function dump(ring: HashRing): [bigint, string][] {
  return Array.from(ring.owner, (o, i) => [(BigInt(ring.hi[i]!) << 32n) | BigInt(ring.lo[i]!), ring.ids[o]!]);
}

describe("HashRing", () => {
  it("holds V points per replica, hashed from `${replicaId}:${i}`, in ascending order", () => {
    const ring = new HashRing(10);
    ring.rebuild(["a", "b", "c"]);
    const pts = dump(ring);
    expect(pts).toHaveLength(30);
    for (let i = 1; i < pts.length; i++) expect(pts[i - 1]![0] < pts[i]![0]).toBe(true);
    const expected = ["a", "b", "c"].flatMap((id) =>
      Array.from({ length: 10 }, (_, v): [bigint, string] => [hashKeyBigInt(`${id}:${v}`), id]),
    );
    expected.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    expect(pts).toEqual(expected);
  });

  it("builds the same ring incrementally (joins, leaves, churn) as from scratch", () => {
    const ring = new HashRing(20);
    ring.rebuild(names(8));
    ring.rebuild([...names(8), "late-joiner"]);
    ring.rebuild(
      names(8)
        .filter((_, i) => i % 3 !== 0)
        .concat(names(5, 100), ["late-joiner"]),
    );
    const fresh = new HashRing(20);
    fresh.rebuild(
      names(8)
        .filter((_, i) => i % 3 !== 0)
        .concat(names(5, 100), ["late-joiner"]),
    );
    expect(dump(ring)).toEqual(dump(fresh));
    expect(ring.ids).toEqual(fresh.ids);
  });

  it("reports no change for the same set and empties cleanly", () => {
    const ring = new HashRing(5);
    expect(ring.rebuild(["x", "y"])).toBe(true);
    expect(ring.rebuild(["y", "x", "x"])).toBe(false);
    expect(ring.rebuild([])).toBe(true);
    expect(ring.size).toBe(0);
    expect(ring.walk(0, 3)).toEqual([]);
    expect(ring.indexOf("x")).toBe(-1);
  });

  it("finds the first point strictly greater than a hash, wrapping at the end", () => {
    const ring = new HashRing(50);
    ring.rebuild(names(4));
    for (let i = 0; i < ring.size; i++) {
      // A hash equal to point i starts at point i + 1 (mod size).
      expect(ring.startIndex(ring.hi[i]!, ring.lo[i]!)).toBe((i + 1) % ring.size);
    }
    expect(ring.startIndex(0, 0)).toBe(0);
    expect(ring.startIndex(0xffffffff, 0xffffffff)).toBe(0);
  });

  it("walks distinct replicas clockwise and stops once every replica is seen", () => {
    const ring = new HashRing(30);
    ring.rebuild(names(3));
    for (let s = 0; s < ring.size; s += 7) {
      const w = ring.walk(s, 10);
      expect(w).toHaveLength(3);
      expect(new Set(w).size).toBe(3);
      expect(w[0]).toBe(ring.owner[s]);
    }
  });

  it("joins one replica into a 1000-replica ring quickly by merging cached points", () => {
    const ring = new HashRing(100);
    ring.rebuild(names(1000));
    const t0 = performance.now();
    ring.rebuild(names(1001));
    const joinMs = performance.now() - t0;
    expect(ring.size).toBe(100_100);
    // Generous bound for a loaded 2-core CI box; bench/ring-bench.ts reports the real figure.
    expect(joinMs).toBeLessThan(200);
  });
});
