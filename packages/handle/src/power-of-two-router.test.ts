import type { ReplicaInfo } from "@tsserve/protocol";
import { isConfigError } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { PowerOfTwoChoicesRouter } from "./power-of-two-router.js";
import type { RouterContext, RoutingRequest } from "./request-router.js";

const context: RouterContext = { app: "a", deployment: "d", maxOngoingRequests: 5, inFlight: () => 0 };
const request: RoutingRequest = { requestId: "x", sessionId: null, method: "__call__", createdAt: 0 };
const reps = (n: number): ReplicaInfo[] =>
  Array.from({ length: n }, (_, i) => ({ replicaId: `r${i}`, nodeId: "n" }));

describe("PowerOfTwoChoicesRouter", () => {
  it("returns nothing for no replicas and the only one for one", () => {
    const r = new PowerOfTwoChoicesRouter(context, {});
    expect(r.chooseReplicas([], request)).toEqual([]);
    expect(r.chooseReplicas(reps(1), request)).toEqual([[{ replicaId: "r0", nodeId: "n" }]]);
  });

  it("samples two distinct replicas as the first group, then offers every candidate", () => {
    const r = new PowerOfTwoChoicesRouter(context, {});
    const candidates = reps(5);
    for (let i = 0; i < 1000; i++) {
      const groups = r.chooseReplicas(candidates, request);
      expect(groups).toHaveLength(2);
      expect(groups[0]).toHaveLength(2);
      expect(groups[0]![0]!.replicaId).not.toBe(groups[0]![1]!.replicaId);
      // The fallback group is the candidates array itself: no allocation per call.
      expect(groups[1]).toBe(candidates);
    }
    // With two replicas the pair is everyone: one group.
    expect(r.chooseReplicas(reps(2), request)).toHaveLength(1);
  });

  it("samples uniformly: every replica appears about equally often", () => {
    const r = new PowerOfTwoChoicesRouter(context, {});
    const candidates = reps(4);
    const counts = new Map<string, number>();
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) {
      for (const rep of r.chooseReplicas(candidates, request)[0]!)
        counts.set(rep.replicaId, (counts.get(rep.replicaId) ?? 0) + 1);
    }
    // Each replica is in a pair with probability 1/2: 10000 expected; ±5 % is over 10 sigma.
    for (const rep of candidates)
      expect(Math.abs(counts.get(rep.replicaId)! - rounds / 2)).toBeLessThan(rounds * 0.025);
  });

  it("puts either of two replicas first (ties go to list order, so order must be random)", () => {
    const r = new PowerOfTwoChoicesRouter(context, {});
    const firsts = new Set<string>();
    for (let i = 0; i < 100; i++) firsts.add(r.chooseReplicas(reps(2), request)[0]![0]!.replicaId);
    expect(firsts).toEqual(new Set(["r0", "r1"]));
  });

  it("answers one or two replicas with arrays built once per candidates array", () => {
    const r = new PowerOfTwoChoicesRouter(context, {});
    const two = reps(2);
    const seen = new Set<ReplicaInfo[][]>();
    for (let i = 0; i < 100; i++) seen.add(r.chooseReplicas(two, request));
    // Two answers (either replica first), each the same object on every call.
    expect(seen.size).toBe(2);
    for (const groups of seen)
      expect(new Set(groups[0]!.map((x) => x.replicaId))).toEqual(new Set(["r0", "r1"]));
    // A new replica set (a new array) gets answers of its own members.
    const other: ReplicaInfo[] = [{ replicaId: "x", nodeId: "n" }];
    expect(r.chooseReplicas(other, request)).toEqual([[{ replicaId: "x", nodeId: "n" }]]);
    expect(
      r
        .chooseReplicas(two, request)[0]!
        .map((x) => x.replicaId)
        .sort(),
    ).toEqual(["r0", "r1"]);
  });

  it("rejects kwargs with a ConfigError naming them", () => {
    let error: unknown;
    try {
      new PowerOfTwoChoicesRouter(context, { numVirtualNodes: 3 });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('"numVirtualNodes"');
  });
});
