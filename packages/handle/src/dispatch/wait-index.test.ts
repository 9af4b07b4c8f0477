import { describe, expect, it } from "vitest";
import { WaitIndex, WaitList, type Indexed, type WaitTicket } from "./wait-index.js";

class E implements Indexed<E> {
  waitTickets: WaitTicket<E> | null = null;
  constructor(readonly arrival: number) {}
}

describe("WaitIndex", () => {
  it("gives each replica its oldest call, merging the any-replica list by arrival", () => {
    const x = new WaitIndex<E>();
    const [e1, e2, e3, e4] = [1, 2, 3, 4].map((n) => new E(n));
    x.add(e2!, "r1", WaitList.FIRST, false);
    x.add(e3!, null, WaitList.FIRST, false);
    x.add(e4!, "r2", WaitList.FIRST, false);
    x.add(e1!, "r1", WaitList.FIRST, false); // a returning (older) call goes back to its place
    expect(x.oldest("r1", WaitList.FIRST)).toBe(e1);
    expect(x.oldest("r2", WaitList.FIRST)).toBe(e3); // the any-replica call is older than e4
    expect(x.oldest("r3", WaitList.FIRST)).toBe(e3);
    expect(x.oldest("r1", WaitList.SPILL)).toBeNull();
    x.remove(e1!);
    x.remove(e3!);
    expect(x.oldest("r1", WaitList.FIRST)).toBe(e2);
    expect(x.oldest("r2", WaitList.FIRST)).toBe(e4);
    expect(x.oldest("r3", WaitList.FIRST)).toBeNull();
  });

  it("counts owners per replica, also of calls in no list, and forgets them on removal", () => {
    const x = new WaitIndex<E>();
    const a = new E(1);
    const b = new E(2);
    x.add(a, "r1", WaitList.FIRST, true);
    x.add(a, "r2", WaitList.SPILL, false);
    x.add(b, "r3", WaitList.NONE, true);
    expect([x.ownerWaits("r1"), x.ownerWaits("r2"), x.ownerWaits("r3")]).toEqual([true, false, true]);
    expect(x.oldest("r2", WaitList.SPILL)).toBe(a);
    expect(x.oldest("r3", WaitList.FIRST)).toBeNull(); // b only counts as an owner
    x.remove(a);
    x.remove(b);
    expect([x.ownerWaits("r1"), x.ownerWaits("r3")]).toEqual([false, false]);
    expect(x.oldest("r2", WaitList.SPILL)).toBeNull();
    x.add(b, null, WaitList.FIRST, true);
    expect(x.ownerWaits("anyone")).toBe(true);
  });

  it("drops every list on reset; removing a ticket of the old lists leaves the new ones alone", () => {
    const x = new WaitIndex<E>();
    const a = new E(1);
    const b = new E(2);
    x.add(a, "r1", WaitList.FIRST, true);
    x.reset();
    expect(x.ownerWaits("r1")).toBe(false);
    x.add(b, "r1", WaitList.FIRST, true);
    x.remove(a);
    expect(x.oldest("r1", WaitList.FIRST)).toBe(b);
    expect(x.ownerWaits("r1")).toBe(true);
  });

  it("costs two looks per pick and nothing to append, however long the other lists are", () => {
    const x = new WaitIndex<E>();
    for (let i = 0; i < 10_000; i++) x.add(new E(i), "r2", WaitList.FIRST, true);
    const mine = new E(10_000);
    x.add(mine, "r1", WaitList.FIRST, true);
    expect(x.visited).toBe(0);
    expect(x.oldest("r1", WaitList.FIRST)).toBe(mine);
    expect(x.visited).toBe(2);
  });
});
