import { isConfigError, type ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import type { RouterContext, RoutingRequest } from "../request-router.js";
import { PrefixAwareRouter } from "./prefix-aware-router.js";
import { PrefixIndex } from "./prefix-index.js";
import { routingPrompt } from "./routing-prompt.js";

const reps = (n: number): ReplicaInfo[] =>
  Array.from({ length: n }, (_, i) => ({ replicaId: `r${i}`, nodeId: "n" }));

/** A context whose replica-reported queue lengths the test sets (fake load). */
function fakeLoad(): RouterContext & { q: Map<string, number> } {
  const q = new Map<string, number>();
  return {
    app: "a",
    deployment: "d",
    maxOngoingRequests: 8,
    inFlight: () => 0,
    queueLength: (id) => q.get(id),
    q,
  };
}

let seq = 0;
const call = (prompt: unknown, extra: Partial<RoutingRequest> = {}): RoutingRequest => ({
  requestId: `q${seq++}`,
  sessionId: null,
  method: "generate",
  createdAt: 0,
  args: [prompt],
  ...extra,
});
const SYSTEM = "You are a careful assistant for ACME. ".repeat(40);
const ids = (g: ReplicaInfo[] | undefined) => (g ?? []).map((r) => r.replicaId);

describe("PrefixAwareRouter", () => {
  it("sends a prompt to the replica that was sent its prefix, and new prefixes to the emptiest", () => {
    const r = new PrefixAwareRouter(fakeLoad(), { blockChars: 16 });
    const c = reps(4);
    r.updateReplicas(c);
    // Nothing cached anywhere: every replica is least used; the first prompt goes where the handle picks.
    const first = call(`${SYSTEM} question one`);
    expect(ids(r.chooseReplicas(c, first)[0])).toEqual(["r0", "r1", "r2", "r3"]);
    r.onRequestRouted(first, "r2");
    // Same system prompt, another question: r2 holds most of it.
    const groups = r.chooseReplicas(c, call(`${SYSTEM} question two`));
    expect(ids(groups[0])).toEqual(["r2"]);
    expect(groups[1]).toBe(c);
    // An unrelated prompt: below the match-rate threshold, it goes to the replicas with the smallest index.
    expect(ids(r.chooseReplicas(c, call("Translate to French: ".repeat(30)))[0])).toEqual(["r0", "r1", "r3"]);
  });

  it("falls back to power of two when reported queue lengths differ by imbalancedThreshold", () => {
    const ctx = fakeLoad();
    const r = new PrefixAwareRouter(ctx, { imbalancedThreshold: 3, blockChars: 16 });
    const c = reps(3);
    const p = call(SYSTEM);
    r.onRequestRouted(p, "r0");
    ctx.q.set("r0", 3).set("r1", 0).set("r2", 1);
    const groups = r.chooseReplicas(c, call(SYSTEM));
    expect(groups[0]).toHaveLength(2); // a random pair, not [r0]
    ctx.q.set("r0", 2);
    expect(ids(r.chooseReplicas(c, call(SYSTEM))[0])).toEqual(["r0"]);
  });

  it("reads the prompt from prefixKey, a string argument, a field, chat messages or JSON bytes", () => {
    expect(routingPrompt(call("x", { prefixKey: "key" }), "prompt")).toBe("key");
    expect(routingPrompt(call("plain"), "prompt")).toBe("plain");
    expect(routingPrompt(call({ text: "t" }), "text")).toBe("t");
    const messages = [
      { role: "system", content: "s" },
      { role: "user", content: "u" },
    ];
    expect(routingPrompt(call({ messages }), "messages")).toBe("system: s\nuser: u\n");
    expect(routingPrompt(call(new TextEncoder().encode('{"prompt":"j"}')), "prompt")).toBe("j");
    expect(routingPrompt(call(42), "prompt")).toBeNull();
  });

  it("refuses unknown and out-of-range kwargs with the kwarg's name", () => {
    const bad = (kwargs: Record<string, unknown>) => {
      try {
        new PrefixAwareRouter(fakeLoad(), kwargs);
      } catch (e) {
        expect(isConfigError(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad({ match_rate_threshold: 0.2 })).toContain(
      "unknown kwarg requestRouter.kwargs.match_rate_threshold",
    );
    expect(bad({ matchRateThreshold: 2 })).toContain(
      "matchRateThreshold must be a number from 0 to 1, got 2",
    );
    expect(bad({ blockChars: 0 })).toContain("blockChars");
  });

  it("forgets a dead replica's cache", () => {
    const r = new PrefixAwareRouter(fakeLoad(), { blockChars: 16 });
    r.onRequestRouted(call(SYSTEM), "r1");
    r.onReplicaDied("r1");
    expect(r.matcher.index.size("r1")).toBe(0);
  });
});

describe("PrefixIndex", () => {
  it("evicts the least recently routed blocks, tail of a prefix first", () => {
    const index = new PrefixIndex(4, 6);
    const a = index.keys("aaaabbbbccccdddd"); // 4 blocks
    index.insert("r", a);
    const b = index.keys("zzzzyyyy"); // 2 blocks: 6 held, at capacity
    index.insert("r", b);
    index.insert("r", index.keys("qqqq")); // one over: a's last block goes
    expect(index.match("r", a)).toBe(3);
    expect(index.match("r", b)).toBe(2);
    expect(index.size("r")).toBe(6);
  });

  it("chains keys: a block matches only after the same prefix", () => {
    const index = new PrefixIndex(4, 100);
    index.insert("r", index.keys("aaaabbbb"));
    expect(index.match("r", index.keys("aaaabbbbcccc"))).toBe(2);
    expect(index.match("r", index.keys("xxxxbbbb"))).toBe(0);
  });
});
