import type { ReplicaInfo } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import {
  FakeTransport,
  fakeDeployment,
  ok,
  replicas,
  type FakeSend,
} from "../../test/helpers/fake-transport.js";
import { RequestRouter, type RouterContext, type RoutingRequest } from "../request-router.js";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Ticks until `t` has `n` open sends (the handle learned the replicas' queue lengths and sent). */
async function untilOpen(t: FakeTransport, n: number): Promise<void> {
  for (let i = 0; i < 1000 && t.openSends().length < n; i++) await tick();
  expect(t.openSends()).toHaveLength(n);
}
/** PowerOfTwo over `ids` at one slot each, every replica's queue length learned (probe answers arrive in no particular order). */
async function warmPowerOfTwo(t: FakeTransport, ids: string[]) {
  for (const id of ids) t.setProbe(id, 0);
  const d = fakeDeployment(t, ids, { maxOngoingRequests: 1 });
  const warm = ids.map((_, i) => d.call([-1 - i]));
  await untilOpen(t, ids.length);
  for (const s of t.openSends()) s.reply(ok(s.request.args[0], 0));
  await Promise.all(warm);
  return d;
}

/** Answers open sends one at a time (`pick` chooses which) until none is left; returns the send order after `sent`. */
async function answerAll(t: FakeTransport, sent: number, pick: () => FakeSend = () => t.openSends()[0]!) {
  while (t.openSends().length > 0) {
    const s = pick();
    s.reply(ok(s.request.args[0], 0));
    await tick();
  }
  return t.calls.flatMap((c) => (c.type === "send" ? [c.request.args[0] as number] : [])).slice(sent);
}
const N = 10_000;

/** Owner (the replica named by the session), then every other replica in its own group. */
class OwnerFirst extends RequestRouter {
  chosen = 0;
  constructor(
    ctx: RouterContext,
    private readonly patienceMs: number,
  ) {
    super(ctx, {});
  }
  override chooseReplicas(c: readonly ReplicaInfo[], r: RoutingRequest): ReplicaInfo[][] {
    this.chosen++;
    const owner = c.findIndex((x) => x.replicaId === r.sessionId);
    if (owner < 0) return c.map((x) => [x]);
    return [[c[owner]!], ...c.filter((_, i) => i !== owner).map((x) => [x])];
  }
  override spillAfterMs(): number {
    return this.patienceMs;
  }
}

function stickyDeployment(t: FakeTransport, ids: string[], patienceMs: number, now?: () => number) {
  let router: OwnerFirst | null = null;
  const d = fakeDeployment(
    t,
    ids,
    { maxOngoingRequests: 1 },
    {
      createRouter: async (_cfg, ctx) => (router = new OwnerFirst(ctx, patienceMs)),
      ...(now === undefined ? {} : { now }),
    },
  );
  return { d, router: () => router! };
}

describe("per-replica wait lists (fake transport, deterministic)", () => {
  it(`gives a freed slot to its replica's caller in O(1) with ${N} callers of another replica ahead`, async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    const { d } = stickyDeployment(t, ["r1", "r2"], 60_000);
    const a1 = d.call(["a1"], { sessionId: "r1" });
    const b1 = d.call(["b1"], { sessionId: "r2" });
    await untilOpen(t, 2);
    const others = Array.from({ length: N }, (_, i) => d.call([i], { sessionId: "r2" }));
    const mine = d.call(["a2"], { sessionId: "r1" });
    await tick();
    expect(d.dispatcher.queued).toBe(N + 1);
    const before = d.dispatcher.waitVisits;
    t.openSends("r1")[0]!.reply(ok("a1", 0));
    await tick();
    expect(await a1).toBe("a1");
    expect(t.openSends("r1").map((s) => s.request.args[0])).toEqual(["a2"]);
    // Two list heads per slot given (and per slot left): constant, not N.
    expect(d.dispatcher.waitVisits - before).toBeLessThanOrEqual(8);
    t.openSends("r1")[0]!.reply(ok("a2", 0));
    expect(await mine).toBe("a2");
    // r2's callers still go in arrival order.
    const served: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const s = t.openSends("r2")[0]!;
      served.push(s.request.args[0]);
      s.reply(ok(s.request.args[0], 0));
      await tick();
    }
    expect(served).toEqual(["b1", 0, 1]);
    d.dispatcher.close(new Error("done"));
    await Promise.allSettled([b1, ...others]);
  });

  it(`hands spare capacity to the oldest spilled call in O(1) with ${N} of them waiting`, async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    // A clock of its own: a GC pause while 10,000 calls arrive must not end a patience early.
    let clock = 0;
    const { d } = stickyDeployment(t, ["r1", "r2"], 20, () => clock);
    const a1 = d.call(["a1"], { sessionId: "r1" });
    const b1 = d.call(["b1"], { sessionId: "r2" });
    await untilOpen(t, 2);
    const spilled = Array.from({ length: N }, (_, i) => d.call([i], { sessionId: "r2" }));
    clock += 30; // every patience is over once its timer fires
    for (let i = 0; i < 200 && !spilled.every((r) => r.request?.patienceOver === true); i++)
      await new Promise((r) => setTimeout(r, 10));
    const before = d.dispatcher.waitVisits;
    t.openSends("r1")[0]!.reply(ok("a1", 0));
    await tick();
    expect(await a1).toBe("a1");
    // Nobody waits for r1 as its owner: the oldest spilled call takes its free slot.
    expect(t.openSends("r1").map((s) => s.request.args[0])).toEqual([0]);
    expect(d.dispatcher.waitVisits - before).toBeLessThanOrEqual(8);
    d.dispatcher.close(new Error("done"));
    await Promise.allSettled([b1, ...spilled]);
  });

  it(`lists ${N} waiting callers again after a membership change at one router call each, keeping their order`, async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    t.setProbe("r3", 0);
    const { d, router } = stickyDeployment(t, ["r1", "r2"], 60_000);
    const b1 = d.call(["b1"], { sessionId: "r2" });
    await untilOpen(t, 1);
    const waiting = Array.from({ length: N }, (_, i) => d.call([i], { sessionId: "r2" }));
    await tick();
    const chosen = router().chosen;
    const visits = d.dispatcher.waitVisits;
    d.membership.update(replicas("r1", "r2", "r3"));
    expect(router().chosen - chosen).toBe(N); // one ranking per waiting call, no more
    expect(d.dispatcher.waitVisits - visits).toBe(0); // listed again oldest first: appends only
    expect(d.dispatcher.queued).toBe(N);
    t.openSends("r2")[0]!.reply(ok("b1", 0));
    await tick();
    expect(await b1).toBe("b1");
    expect(t.openSends("r2").map((s) => s.request.args[0])).toEqual([0]);
    d.dispatcher.close(new Error("done"));
    await Promise.allSettled(waiting);
  });

  it("keeps arrival order over 3 replicas with PowerOfTwo (explicit pairs and the any-replica group)", async () => {
    const t = new FakeTransport();
    const d = await warmPowerOfTwo(t, ["r1", "r2", "r3"]);
    const sent = t.count("send");
    const n = 60;
    const responses = Array.from({ length: n }, (_, i) => d.call([i]));
    await tick();
    const order = await answerAll(t, sent);
    expect(await Promise.all(responses)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(order).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it("lists a PowerOfTwo call between two replicas once (any replica), and keeps arrival order", async () => {
    const t = new FakeTransport();
    const d = await warmPowerOfTwo(t, ["r1", "r2"]);
    const sent = t.count("send");
    const n = 40;
    const responses = Array.from({ length: n }, (_, i) => d.call([i]));
    await tick();
    // Two sent, the rest waiting with one ticket each (their pair is every candidate).
    const waiting = responses.slice(2).map((r) => r.request!);
    let tickets = 0;
    for (const req of waiting) for (let k = req.waitTickets; k !== null; k = k.sibling) tickets++;
    expect(tickets).toBe(n - 2);
    // Answer r2 first whenever it has a call: the freed slot still goes to the oldest caller.
    const order = await answerAll(t, sent, () => t.openSends("r2")[0] ?? t.openSends()[0]!);
    expect(await Promise.all(responses)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(order).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
