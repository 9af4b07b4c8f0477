import { describe, expect, it } from "vitest";
import { WaitQueue, type Queued } from "./wait-queue.js";

class Entry implements Queued<Entry> {
  qPrev: Entry | null = null;
  qNext: Entry | null = null;
  qIn = false;
  constructor(readonly createdAt: number) {}
}

const times = (q: WaitQueue<Entry>) => q.toArray().map((e) => e.createdAt);

describe("WaitQueue", () => {
  it("keeps arrival order and removes from the middle in place", () => {
    const q = new WaitQueue<Entry>();
    const es = [1, 2, 3, 4].map((t) => new Entry(t));
    for (const e of es) q.push(e);
    q.remove(es[1]!);
    expect(times(q)).toEqual([1, 3, 4]);
    q.remove(es[0]!);
    q.remove(es[3]!);
    expect(times(q)).toEqual([3]);
    expect(q.size).toBe(1);
    expect(q.head).toBe(es[2]);
    q.remove(es[2]!);
    expect(q.size).toBe(0);
    expect(q.head).toBeNull();
  });

  it("puts a returning entry back at its place by age", () => {
    const q = new WaitQueue<Entry>();
    const es = [1, 2, 3, 4].map((t) => new Entry(t));
    for (const e of es) q.push(e);
    q.remove(es[0]!);
    q.remove(es[2]!);
    q.insertByAge(es[2]!);
    expect(times(q)).toEqual([2, 3, 4]);
    q.insertByAge(es[0]!);
    expect(times(q)).toEqual([1, 2, 3, 4]);
    const late = new Entry(9);
    q.insertByAge(late);
    expect(times(q)).toEqual([1, 2, 3, 4, 9]);
  });

  it("ignores double pushes and removals of entries it does not hold", () => {
    const q = new WaitQueue<Entry>();
    const e = new Entry(1);
    q.push(e);
    q.push(e);
    expect(q.size).toBe(1);
    q.remove(e);
    q.remove(e);
    expect(q.size).toBe(0);
  });

  it("reports every change of its size", () => {
    const sizes: number[] = [];
    const q = new WaitQueue<Entry>((n) => sizes.push(n));
    const a = new Entry(1);
    const b = new Entry(2);
    q.push(a);
    q.insertByAge(b);
    q.remove(a);
    q.remove(a); // not queued: no report
    q.remove(b);
    expect(sizes).toEqual([1, 2, 1, 0]);
  });
});
