import { describe, expect, it } from "vitest";
import type { PendingRequest } from "../pending-request.js";
import { LiveCalls } from "./live-calls.js";

// LiveCalls reads `arrival` and keeps `liveAt`: the only fields of a PendingRequest it touches.
const call = (arrival: number) => ({ arrival, liveAt: -1 }) as unknown as PendingRequest;

describe("LiveCalls", () => {
  it("holds each call once until it is deleted, and walks them oldest first", () => {
    const live = new LiveCalls();
    const [a, b, c, d] = [call(1), call(2), call(3), call(4)];
    for (const r of [a, b, c, d]) live.add(r);
    live.add(b); // twice is once
    expect(live.size).toBe(4);
    live.delete(a); // the last call moves into a's place
    live.delete(a);
    expect(live.size).toBe(3);
    expect(live.oldestFirst()).toEqual([b, c, d]);
    expect(new Set(live)).toEqual(new Set([b, c, d]));
    live.delete(d);
    live.add(a); // back (a retry would not do this, but the table allows it)
    expect(live.oldestFirst()).toEqual([a, b, c]);
    for (const r of live.oldestFirst()) live.delete(r); // deleting while walking the copy
    expect(live.size).toBe(0);
    expect([a, b, c, d].map((r) => r.liveAt)).toEqual([-1, -1, -1, -1]);
  });
});
