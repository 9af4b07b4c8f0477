import { isConfigError, type ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import type { RouterContext, RoutingRequest } from "../request-router.js";
import { ConsistentHashRouter } from "./consistent-hash-router.js";

const infos = (ids: string[]): ReplicaInfo[] => ids.map((replicaId) => ({ replicaId, nodeId: "n1" }));
const rs = (n: number, prefix = "r"): ReplicaInfo[] =>
  infos(Array.from({ length: n }, (_, i) => `${prefix}${i}`));

function ctx(inFlight: (id: string) => number = () => 0): RouterContext & { rebuilds: number[] } {
  const rebuilds: number[] = [];
  return {
    app: "a",
    deployment: "d",
    maxOngoingRequests: 10,
    inFlight,
    rebuilds,
    reportRebuild: (ms) => rebuilds.push(ms),
  };
}

let seq = 0;
const req = (sessionId: string | null): RoutingRequest => ({
  requestId: `req-${++seq}`,
  sessionId,
  method: "__call__",
  createdAt: 0,
});

function router(replicas: ReplicaInfo[], kwargs: Record<string, unknown> = {}): ConsistentHashRouter {
  const r = new ConsistentHashRouter(ctx(), kwargs);
  r.updateReplicas(replicas);
  return r;
}

const ids = (groups: ReplicaInfo[][]): string[] =>
  groups.map((g) => {
    expect(g).toHaveLength(1);
    return g[0]!.replicaId;
  });
const primaryOf = (r: ConsistentHashRouter, reps: ReplicaInfo[], session: string | null): string =>
  r.chooseReplicas(reps, req(session))[0]![0]!.replicaId;

describe("ConsistentHashRouter kwargs", () => {
  it.each([
    [{ numVirtualNodes: 0 }, "numVirtualNodes", "0"],
    [{ numVirtualNodes: -5 }, "numVirtualNodes", "-5"],
    [{ numVirtualNodes: "many" }, "numVirtualNodes", '"many"'],
    [{ numVirtualNodes: 2.5 }, "numVirtualNodes", "2.5"],
    [{ numVirtualNodes: 1e9 }, "numVirtualNodes", "1000000000"],
    [{ numFallbackReplicas: -1 }, "numFallbackReplicas", "-1"],
    [{ loadBound: 1 }, "loadBound", "1"],
    [{ loadBound: 0.5 }, "loadBound", "0.5"],
    [{ loadBound: "1.25" }, "loadBound", '"1.25"'],
    [{ virtual_nodes: 100 }, "virtual_nodes", "100"],
  ])("rejects %j with a ConfigError naming the kwarg and the value", (kwargs, name, shown) => {
    let err: unknown;
    try {
      new ConsistentHashRouter(ctx(), kwargs);
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toContain(shown);
    expect((err as Error).message).toMatch(/must be|known kwargs are/);
  });

  it("stores valid kwargs and defaults to 100 virtual nodes, 2 fallbacks, no load bound", () => {
    const r = new ConsistentHashRouter(ctx(), {
      numVirtualNodes: 42,
      numFallbackReplicas: 7,
      loadBound: 1.25,
    });
    expect([r.numVirtualNodes, r.numFallbackReplicas, r.loadBound]).toEqual([42, 7, 1.25]);
    const d = new ConsistentHashRouter(ctx());
    expect([d.numVirtualNodes, d.numFallbackReplicas, d.loadBound]).toEqual([100, 2, null]);
    expect(new ConsistentHashRouter(ctx(), { loadBound: null }).loadBound).toBeNull();
  });
});

describe("ConsistentHashRouter ranking", () => {
  it("reproduces Ray's golden rankings over r0..r4", () => {
    const reps = rs(5);
    const r = router(reps);
    expect(r.rankedReplicaIds("user_42")).toEqual(["r4", "r3", "r2"]);
    expect(r.rankedReplicaIds("user_123")).toEqual(["r0", "r2", "r1"]);
    expect(ids(r.chooseReplicas(reps, req("user_42")))).toEqual(["r4", "r3", "r2"]);
    expect(ids(r.chooseReplicas(reps, req("user_123")))).toEqual(["r0", "r2", "r1"]);
  });

  it("caps the ranks at the number of replicas, distinct", () => {
    const three = rs(3);
    const r5 = router(three, { numFallbackReplicas: 5 });
    const got = ids(r5.chooseReplicas(three, req("s")));
    expect(new Set(got)).toEqual(new Set(["r0", "r1", "r2"]));
    const two = rs(2);
    const got2 = ids(router(two).chooseReplicas(two, req("s")));
    expect(got2).toHaveLength(2);
    expect(new Set(got2).size).toBe(2);
  });

  it("returns [] when there are no candidates", () => {
    expect(router(rs(3)).chooseReplicas([], req("s"))).toEqual([]);
    expect(new ConsistentHashRouter(ctx()).chooseReplicas([], req("s"))).toEqual([]);
  });

  it("keeps a session on one primary across 10 calls", () => {
    const reps = rs(4);
    const r = router(reps);
    const first = primaryOf(r, reps, "user_7");
    for (let i = 0; i < 10; i++) expect(primaryOf(r, reps, "user_7")).toBe(first);
  });

  it("gives exactly one rank of one replica with numFallbackReplicas 0", () => {
    const reps = rs(4);
    const got = router(reps, { numFallbackReplicas: 0 }).chooseReplicas(reps, req("s"));
    expect(got).toHaveLength(1);
    expect(got[0]).toHaveLength(1);
  });

  it("places session-less requests like fresh request ids: each replica's share is its arc of the ring", () => {
    // V=1 makes the arcs very unequal, so a uniform pick per replica would fail this.
    const reps = rs(4);
    const r = router(reps, { numVirtualNodes: 1 });
    const ring = r.hashRing;
    const point = (i: number): number => ring.hi[i]! * 2 ** 32 + ring.lo[i]!;
    const arc = new Map<string, number>();
    for (let i = 0; i < ring.size; i++) {
      // Point i owns the keys between the previous point (exclusive) and itself (inclusive).
      const prev = i === 0 ? point(ring.size - 1) - 2 ** 64 : point(i - 1);
      const id = ring.ids[ring.owner[i]!]!;
      arc.set(id, (arc.get(id) ?? 0) + (point(i) - prev) / 2 ** 64);
    }
    const n = 40_000;
    const hits = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = primaryOf(r, reps, null);
      hits.set(p, (hits.get(p) ?? 0) + 1);
    }
    for (const rep of reps) {
      expect(Math.abs((hits.get(rep.replicaId) ?? 0) / n - arc.get(rep.replicaId)!)).toBeLessThan(0.015);
    }
  });

  it("offers a session-less request its two ring owners as one group (shorter queue wins)", () => {
    const reps = rs(4);
    const r = router(reps);
    const sessionless = r.chooseReplicas(reps, req(null));
    expect(sessionless.map((g) => g.length)).toEqual([2, 1]);
    expect(new Set(sessionless.flat().map((x) => x.replicaId)).size).toBe(3);
    // A session keeps Ray's strict single-replica ranks.
    expect(r.chooseReplicas(reps, req("user_42")).map((g) => g.length)).toEqual([1, 1, 1]);
  });

  it("spreads session-less requests over the ring", () => {
    const reps = rs(3);
    const r = router(reps);
    const primaries = new Set(Array.from({ length: 20 }, () => primaryOf(r, reps, null)));
    expect(primaries.size).toBeGreaterThan(1);
    // An empty session id counts as none.
    const empties = new Set(Array.from({ length: 20 }, () => primaryOf(r, reps, "")));
    expect(empties.size).toBeGreaterThan(1);
  });

  it("wraps past the largest point to the first one", () => {
    const r = router(rs(5));
    const ring = r.hashRing;
    const last = ring.size - 1;
    // Hash = the largest point + 1 is beyond every point: the owner is ring point 0's replica.
    const lo = (ring.lo[last]! + 1) >>> 0;
    const hi = lo === 0 ? ring.hi[last]! + 1 : ring.hi[last]!;
    expect(hi).toBeLessThan(2 ** 32);
    expect(r.rankedReplicaIdsForHash(hi, lo)[0]).toBe(ring.ids[ring.owner[0]!]);
    // Equal to the largest point (strictly greater is required) wraps too.
    expect(r.rankedReplicaIdsForHash(ring.hi[last]!, ring.lo[last]!)[0]).toBe(ring.ids[ring.owner[0]!]);
    // Equal to point 0 goes to point 1's replica.
    expect(r.rankedReplicaIdsForHash(ring.hi[0]!, ring.lo[0]!)[0]).toBe(ring.ids[ring.owner[1]!]);
  });

  it("ranks 1+K valid replicas at the hash-space boundaries 0 and 2^64-1", () => {
    const r = router(rs(5));
    for (const [hi, lo] of [
      [0, 0],
      [0xffffffff, 0xffffffff],
    ] as const) {
      const got = r.rankedReplicaIdsForHash(hi, lo);
      expect(got).toHaveLength(3);
      expect(new Set(got).size).toBe(3);
      for (const id of got) expect(r.hashRing.ids).toContain(id);
    }
    expect(r.rankedReplicaIdsForHash(0, 0)[0]).toBe(r.hashRing.ids[r.hashRing.owner[0]!]);
  });

  it("balances 2000 sessions over 5 replicas within (0.5, 2) x fair", () => {
    const reps = rs(5);
    const r = router(reps);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const p = primaryOf(r, reps, `sess_${i}`);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    for (const c of counts.values()) {
      expect(c).toBeGreaterThan(200);
      expect(c).toBeLessThan(800);
    }
  });

  it("moves some but under 40% of 1000 sessions when scaling 4 -> 5", () => {
    const r = router(rs(4));
    const before = Array.from({ length: 1000 }, (_, i) => r.rankedReplicaIds(`sess_${i}`)[0]);
    r.updateReplicas(rs(5));
    const after = Array.from({ length: 1000 }, (_, i) => r.rankedReplicaIds(`sess_${i}`)[0]);
    const moved = before.filter((p, i) => p !== after[i]).length;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(400);
    // Every moved session moved to the newcomer.
    expect(before.every((p, i) => p === after[i] || after[i] === "r4")).toBe(true);
  });

  it("moves exactly the removed replica's sessions on scale-down, and no others", () => {
    const r = router(rs(4));
    const before = Array.from({ length: 1000 }, (_, i) => r.rankedReplicaIds(`sess_${i}`)[0]);
    r.updateReplicas(infos(["r1", "r2", "r3"]));
    const after = Array.from({ length: 1000 }, (_, i) => r.rankedReplicaIds(`sess_${i}`)[0]);
    let ownedByR0 = 0;
    for (let i = 0; i < 1000; i++) {
      if (before[i] === "r0") {
        ownedByR0++;
        expect(after[i]).not.toBe("r0");
      } else expect(after[i]).toBe(before[i]);
    }
    expect(ownedByR0).toBeGreaterThan(0);
  });

  it("agrees across two independent routers given replicas in different orders", () => {
    const reps = rs(6);
    const a = router(reps);
    const b = router([...reps].reverse());
    for (let i = 0; i < 20; i++) expect(primaryOf(a, reps, `s${i}`)).toBe(primaryOf(b, reps, `s${i}`));
  });

  it("skips ranks that are no longer candidates and keeps walking for fallbacks", () => {
    const reps = rs(5);
    const r = router(reps);
    const [owner, fb1, fb2] = r.rankedReplicaIds("user_42");
    const alive = reps.filter((x) => x.replicaId !== owner);
    const got = ids(r.chooseReplicas(alive, req("user_42")));
    expect(got).toHaveLength(3);
    expect(got.slice(0, 2)).toEqual([fb1, fb2]);
    expect(got).not.toContain(owner);
  });

  it("remembers a session's ranks only while the ring and the candidates stay the same", () => {
    const reps = rs(5);
    const r = router(reps);
    const [owner, fb1, fb2] = r.rankedReplicaIds("user_42");
    const first = r.chooseReplicas(reps, req("user_42"));
    // The same session's next call gets the same (shared, read-only) ranks: no allocation.
    expect(r.chooseReplicas(reps, req("user_42"))).toBe(first);
    expect(ids(first)).toEqual([owner, fb1, fb2]);
    // Its owner dropped (a new candidates array): the ranks walk past it.
    const alive = reps.filter((x) => x.replicaId !== owner);
    expect(ids(r.chooseReplicas(alive, req("user_42")))).not.toContain(owner);
    // Back to every replica, then a ring change: the owner again, then whatever the new ring says.
    expect(ids(r.chooseReplicas(reps, req("user_42")))[0]).toBe(owner);
    const more = rs(6);
    r.updateReplicas(more);
    expect(ids(r.chooseReplicas(more, req("user_42")))).toEqual(r.rankedReplicaIds("user_42"));
  });

  it("rebuilds only when the replica-id set changes", () => {
    const c = ctx();
    const r = new ConsistentHashRouter(c);
    r.updateReplicas(rs(4));
    r.updateReplicas(rs(4));
    r.updateReplicas([...rs(4)].reverse());
    r.updateReplicas(rs(4).map((x) => ({ ...x, nodeId: "elsewhere" })));
    expect(c.rebuilds).toHaveLength(1);
    r.updateReplicas(rs(5));
    expect(c.rebuilds).toHaveLength(2);
    expect(r.hashRing.size).toBe(500);
  });

  it("returns the caller's candidate objects, and routes stray candidates when the ring does not know them", () => {
    const reps = rs(3);
    const r = router(reps);
    const got = r.chooseReplicas(reps, req("s"));
    expect(reps).toContain(got[0]![0]);
    const strangers = rs(2, "x");
    expect(r.chooseReplicas(strangers, req("s"))).toEqual([strangers]);
  });
});
