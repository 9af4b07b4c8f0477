import { isRequestCancelledError, type ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { FakeTransport, fakeDeployment, ok, type FakeSend } from "../../test/helpers/fake-transport.js";
import { RequestRouter, type RoutingRequest } from "../request-router.js";
import { errorOf } from "../../test/helpers/error-of.js";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Answers the oldest open send like a replica that finished it (queue length = what it still runs). */
async function serveOldest(t: FakeTransport): Promise<FakeSend> {
  const s = t.openSends()[0]!;
  s.reply(ok(s.request.args[0], t.openSends(s.replicaId).length - 1));
  await tick();
  return s;
}

/** The call index each send carried, in send order. */
const sentOrder = (t: FakeTransport) =>
  t.calls.flatMap((c) => (c.type === "send" ? [c.request.args[0] as number] : []));

describe("dispatcher fairness (fake transport, deterministic)", () => {
  it("under 10× overload sends calls in arrival order and each waits at most its queue position", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    const slots = 4; // 2 replicas × maxOngoingRequests 2
    const d = fakeDeployment(t, ["r1", "r2"], { maxOngoingRequests: 2 });
    const n = 10 * slots;
    const responses = Array.from({ length: n }, (_, i) => d.call([i]));
    await tick();
    // Each reply frees one slot; `servedBefore[i]` counts replies before call i was sent.
    const servedBefore: number[] = [];
    let served = 0;
    const note = () => {
      for (const i of sentOrder(t)) servedBefore[i] ??= served;
    };
    note();
    while (served < n) {
      await serveOldest(t);
      served++;
      note();
    }
    expect(await Promise.all(responses)).toEqual(Array.from({ length: n }, (_, i) => i));
    const order = sentOrder(t);
    // No call is overtaken by a younger one: every call here may use either replica.
    expect(order).toEqual(Array.from({ length: n }, (_, i) => i));
    // Call i waits for exactly the i - slots + 1 slots that free before its turn, never more.
    for (let i = 0; i < n; i++) expect(servedBefore[i]).toBe(Math.max(0, i - slots + 1));
    // One handle never sends more than the slots it believes free: one send per call (no
    // rejection, no retry) and no probe beyond the first look at each replica.
    expect(t.count("send")).toBe(n);
    expect(t.count("probe")).toBe(2);
    expect(d.dispatcher.queued).toBe(0);
  });

  it("bounds each call's wait by its queue position × the service time plus a small constant", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const serviceMs = 10;
    // A replica that finishes each call serviceMs after it arrives, with 2 slots.
    t.setSend("r1", (req) => {
      setTimeout(() => {
        const s = t.openSends("r1").find((x) => x.request.requestId === req.requestId)!;
        s.reply(ok(req.args[0], t.openSends("r1").length - 1));
      }, serviceMs);
      return undefined;
    });
    const d = fakeDeployment(t, ["r1"], { maxOngoingRequests: 2 });
    await d.call([-1]); // learn r1's queue length before the clock starts
    const n = 20; // 10× the slots
    const start = performance.now();
    const waits = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        await d.call([i]);
        return performance.now() - start;
      }),
    );
    for (let i = 0; i < n; i++) {
      const rounds = Math.floor(i / 2) + 1; // call i finishes in round ⌊i/2⌋ + 1
      // Timers may fire late on a busy machine, so the constant is generous; a polling loop's
      // backoff (up to 500 ms) would break this bound for the later calls.
      expect(waits[i]).toBeLessThan(rounds * serviceMs * 3 + 100);
    }
  });

  it("frees a cancelled waiting call's place at once", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1"], { maxOngoingRequests: 1 });
    const running = d.call([0]);
    const ac = new AbortController();
    const cancelled = d.call([1], { signal: ac.signal });
    const next = d.call([2]);
    await tick();
    expect(d.dispatcher.queued).toBe(2);
    ac.abort();
    expect(d.dispatcher.queued).toBe(1);
    expect(isRequestCancelledError(await errorOf(cancelled))).toBe(true);
    await serveOldest(t);
    expect(await running).toBe(0);
    expect(t.openSends()[0]!.request.args).toEqual([2]); // the freed slot skipped the cancelled call
    await serveOldest(t);
    expect(await next).toBe(2);
    expect(sentOrder(t)).not.toContain(1);
  });
});

/** Owner, then one fallback: a session-sticky router in miniature. */
class OwnerThenFallback extends RequestRouter {
  constructor(
    ctx: ConstructorParameters<typeof RequestRouter>[0],
    private readonly patienceMs: number,
  ) {
    super(ctx, {});
  }
  override chooseReplicas(c: readonly ReplicaInfo[], r: RoutingRequest): ReplicaInfo[][] {
    const owner = c.findIndex((x) => x.replicaId === r.sessionId);
    if (owner < 0) return c.map((x) => [x]);
    return [[c[owner]!], ...c.filter((_, i) => i !== owner).map((x) => [x])];
  }
  override spillAfterMs(): number {
    return this.patienceMs;
  }
}

describe("owner patience (fake transport)", () => {
  const sticky = (patienceMs: number) => ({
    createRouter: async (_cfg: unknown, ctx: ConstructorParameters<typeof RequestRouter>[0]) =>
      new OwnerThenFallback(ctx, patienceMs),
  });

  it("waits for a full owner rather than spilling while the patience lasts", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    const d = fakeDeployment(t, ["r1", "r2"], { maxOngoingRequests: 1 }, sticky(10_000));
    const a = d.call(["a"], { sessionId: "r1" });
    await tick();
    const b = d.call(["b"], { sessionId: "r1" }); // r1 is full, r2 is free: b waits for r1
    await tick();
    expect(t.openSends().map((s) => s.replicaId)).toEqual(["r1"]);
    await serveOldest(t);
    expect(await a).toBe("a");
    expect(t.openSends().map((s) => s.replicaId)).toEqual(["r1"]);
    await serveOldest(t);
    expect(await b).toBe("b");
    expect(t.count("send", "r2")).toBe(0);
  });

  it("spills to the next rank once the patience is over, and at once with patience 0", async () => {
    for (const patienceMs of [0, 50]) {
      const t = new FakeTransport();
      t.setProbe("r1", 0);
      t.setProbe("r2", 0);
      t.setSend("r2", (req) => ok(req.args[0], 0));
      const d = fakeDeployment(t, ["r1", "r2"], { maxOngoingRequests: 1 }, sticky(patienceMs));
      const a = d.call(["a"], { sessionId: "r1" });
      await tick();
      const start = performance.now();
      const b = d.call(["b"], { sessionId: "r1" });
      expect(await b).toBe("b");
      const waited = performance.now() - start;
      if (patienceMs === 0) expect(waited).toBeLessThan(40);
      else expect(waited).toBeGreaterThanOrEqual(patienceMs - 2);
      await serveOldest(t);
      expect(await a).toBe("a");
    }
  });

  it("spills at once when the owner is gone", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    t.setSend("r2", (req) => ok(req.args[0], 0));
    const d = fakeDeployment(t, ["r1", "r2"], { maxOngoingRequests: 1 }, sticky(10_000));
    const a = d.call(["a"], { sessionId: "r1" });
    await tick();
    const b = d.call(["b"], { sessionId: "r1" }); // waits for r1
    await tick();
    d.membership.update([{ replicaId: "r2", nodeId: "n1" }]); // r1 drained away
    expect(await b).toBe("b");
    void a.catch(() => undefined);
  });

  it("lets a spilled call take only spare capacity: the fallback's own sessions go first", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    const d = fakeDeployment(t, ["r1", "r2"], { maxOngoingRequests: 1 }, sticky(20));
    const a1 = d.call(["a1"], { sessionId: "r1" });
    const b1 = d.call(["b1"], { sessionId: "r2" });
    await tick();
    const a2 = d.call(["a2"], { sessionId: "r1" }); // older, patience will run out
    await new Promise((r) => setTimeout(r, 40));
    const b2 = d.call(["b2"], { sessionId: "r2" }); // younger, but r2 is its owner
    await tick();
    // r2 frees: b2 (owner) takes it although a2 is older and may spill there.
    const s = t.openSends("r2")[0]!;
    s.reply(ok("b1", 0));
    await tick();
    expect(await b1).toBe("b1");
    expect(t.openSends("r2").map((x) => x.request.args[0])).toEqual(["b2"]);
    // r2 frees again with nobody of its own waiting: now the spilled a2 may have it.
    t.openSends("r2")[0]!.reply(ok("b2", 0));
    await tick();
    expect(await b2).toBe("b2");
    expect(t.openSends("r2").map((x) => x.request.args[0])).toEqual(["a2"]);
    t.openSends("r2")[0]!.reply(ok("a2", 0));
    expect(await a2).toBe("a2");
    t.openSends("r1")[0]!.reply(ok("a1", 0));
    expect(await a1).toBe("a1");
  });
});
