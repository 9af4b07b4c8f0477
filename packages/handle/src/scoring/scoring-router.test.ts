import { isConfigError, type ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import type { RouterContext, RoutingRequest } from "../request-router.js";
import type { Scorer } from "./scorers.js";
import { ScoringRouter } from "./scoring-router.js";

const reps = (n: number): ReplicaInfo[] =>
  Array.from({ length: n }, (_, i) => ({ replicaId: `r${i}`, nodeId: "n" }));

/** Replica-reported queue lengths the test sets (fake load); the handle's own in-flight is 0. */
function fakeLoad(max = 8): RouterContext & { q: Map<string, number> } {
  const q = new Map<string, number>();
  return {
    app: "a",
    deployment: "d",
    maxOngoingRequests: max,
    inFlight: () => 0,
    queueLength: (id) => q.get(id),
    q,
  };
}

let seq = 0;
const call = (prompt: string, sessionId: string | null = null): RoutingRequest => ({
  requestId: `q${seq++}`,
  sessionId,
  method: "generate",
  createdAt: 0,
  args: [{ prompt }],
});
const order = (groups: ReplicaInfo[][]) => groups.map((g) => g[0]!.replicaId);
const TENANT_A = "System prompt of tenant A, with its tools and rules. ".repeat(30);
const TENANT_B = "Tenant B answers questions about invoices and refunds. ".repeat(30);

class Router extends ScoringRouter {
  constructor(ctx: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(ctx, { blockChars: 16, ...kwargs });
    this.random = () => 0; // deterministic ties: list order
  }
}

describe("ScoringRouter", () => {
  it("ranks every replica, the one holding the prompt's prefix first, one group each", () => {
    const r = new Router(fakeLoad());
    const c = reps(4);
    r.onRequestRouted(call(`${TENANT_A} q1`), "r2");
    r.onRequestRouted(call(`${TENANT_B} q1`), "r0");
    expect(order(r.chooseReplicas(c, call(`${TENANT_A} q2`)))[0]).toBe("r2");
    expect(order(r.chooseReplicas(c, call(`${TENANT_B} q2`)))[0]).toBe("r0");
    expect(r.chooseReplicas(c, call("x"))).toHaveLength(4);
  });

  it("prefers the less loaded of two replicas with the same prefix, from reported queue lengths", () => {
    const ctx = fakeLoad();
    const r = new Router(ctx);
    const c = reps(3);
    r.onRequestRouted(call(TENANT_A), "r0");
    r.onRequestRouted(call(TENANT_A), "r1");
    ctx.q.set("r0", 3).set("r1", 1).set("r2", 3);
    expect(order(r.chooseReplicas(c, call(`${TENANT_A} more`))).slice(0, 2)).toEqual(["r1", "r0"]);
  });

  it("keeps a session on its replica until it reaches (1 + ε) × the mean load, then spills where its prefix is", () => {
    const ctx = fakeLoad(16);
    const r = new Router(ctx, { loadBound: 1.25 });
    const c = reps(4);
    const hot = (turn: number) => call(`${TENANT_A} hot session turn ${turn}`, "hot");
    r.onRequestRouted(hot(0), "r1");
    r.onRequestRouted(call(`${TENANT_A} another user`), "r3"); // r3 holds tenant A's system prompt
    ctx.q.set("r0", 2).set("r1", 2).set("r2", 2).set("r3", 2);
    expect(order(r.chooseReplicas(c, hot(1)))[0]).toBe("r1");
    // r1 at 4 of a total 10: ⌈1.25 × 11 / 4⌉ = 4, so r1 is at the bound and ranks after the others;
    // the best of those is r3, which holds the shared system prompt: the least cache lost.
    ctx.q.set("r1", 4);
    const ranked = order(r.chooseReplicas(c, hot(2)));
    expect(ranked[0]).toBe("r3");
    expect(ranked[3]).toBe("r1");
  });

  it("puts full replicas last and lets a user scorer take part", () => {
    const ctx = fakeLoad(4);
    const r = new Router(ctx, { weights: { session: 0, prefix: 0, load: 0 } });
    const zone: Scorer = { name: "zone", score: (id) => (id === "r2" ? 1 : 0) };
    r.addScorer(zone, 5);
    const c = reps(3);
    expect(order(r.chooseReplicas(c, call("p")))[0]).toBe("r2");
    ctx.q.set("r2", 4);
    expect(order(r.chooseReplicas(c, call("p")))[2]).toBe("r2");
  });

  it("waits spillAfterMs for calls with a prompt or a session only", () => {
    const r = new Router(fakeLoad(), { spillAfterMs: 40 });
    expect(r.spillAfterMs(call(TENANT_A))).toBe(40);
    expect(r.spillAfterMs(call("", "s"))).toBe(40);
    expect(r.spillAfterMs(call(""))).toBe(0);
  });

  it("refuses bad weights, bounds and scorers with a clear ConfigError", () => {
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isConfigError(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad(() => new Router(fakeLoad(), { weights: { cache: 1 } }))).toContain(
      "one of the scorers session, prefix, load",
    );
    expect(bad(() => new Router(fakeLoad(), { weights: { load: -1 } }))).toContain(
      "weights.load must be a number >= 0",
    );
    expect(bad(() => new Router(fakeLoad(), { loadBound: 1 }))).toContain(
      "loadBound must be a number > 1 or null",
    );
    expect(bad(() => new Router(fakeLoad()).addScorer({ name: "z" } as unknown as Scorer, 1))).toContain(
      "score()",
    );
    expect(() => new Router(fakeLoad(), { loadBound: null })).not.toThrow();
  });
});
