/**
 * ConsistentHashRouter driven by the real routing loop over a fake data plane: the loop-level
 * scenarios of Ray's test_consistent_hash_router.py (fallback, backoff then retry on drain, dead
 * primary, unavailable primary, concurrent same-session bursts) plus loadBound wiring.
 */
import type { RoutingConfig } from "@tsserve/protocol/internal";
import { sleep, waitUntil } from "@tsserve/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { ConsistentHashRouter } from "../src/consistent-hash/consistent-hash-router.js";
import {
  FakeTransport,
  fakeDeployment,
  NO_RESPONDERS,
  ok,
  replicas,
  type FakeDeployment,
} from "./helpers/fake-transport.js";

const IDS = ["r0", "r1", "r2", "r3"];
const SESSION = "user_42";

/** Ray's ranking of `session` over `ids` with these kwargs, computed by an independent router. */
function ranksOf(session: string, ids: string[] = IDS, kwargs: Record<string, unknown> = {}): string[] {
  const r = new ConsistentHashRouter(
    { app: "a", deployment: "d", maxOngoingRequests: 10, inFlight: () => 0 },
    kwargs,
  );
  r.updateReplicas(replicas(...ids));
  return r.rankedReplicaIds(session);
}

const chConfig = (kwargs: Record<string, unknown> = {}): Partial<RoutingConfig> => ({
  maxOngoingRequests: 10,
  requestRouter: { class: "ConsistentHash", kwargs },
});

/** Every fake replica answers probes with 0 and calls with its own id. */
function healthy(t: FakeTransport, ids: string[] = IDS): void {
  for (const id of ids) {
    t.setProbe(id, 0);
    t.setSend(id, () => ok(id, 0));
  }
}

const live: FakeDeployment[] = [];
function deploy(t: FakeTransport, kwargs: Record<string, unknown> = {}, ids: string[] = IDS): FakeDeployment {
  const d = fakeDeployment(t, ids, chConfig(kwargs));
  live.push(d);
  return d;
}

afterEach(() => {
  // Like Ray's fixture teardown: no request may be left routing.
  for (const d of live.splice(0)) {
    expect(d.dispatcher.pendingCount).toBe(0);
    d.dispatcher.close(new Error("test over"));
  }
});

describe("ConsistentHashRouter in the routing loop", () => {
  it("sends a session to its primary, and to the first fallback when the primary is full", async () => {
    const [primary, fb1] = ranksOf(SESSION);
    const t = new FakeTransport();
    healthy(t);
    const d = deploy(t);
    expect(await d.call([], { sessionId: SESSION })).toBe(primary);

    const t2 = new FakeTransport();
    healthy(t2);
    t2.setProbe(primary!, 10); // at maxOngoingRequests
    const d2 = deploy(t2);
    expect(await d2.call([], { sessionId: SESSION })).toBe(fb1);
    expect(t2.count("send", primary)).toBe(0);
  });

  it("backs off while every rank is full, then takes the primary once it drains", async () => {
    const [primary] = ranksOf(SESSION);
    const t = new FakeTransport();
    healthy(t);
    for (const id of IDS) t.setProbe(id, 10);
    const d = deploy(t);
    let settled = false;
    const res = d.call([], { sessionId: SESSION });
    void res.then(() => (settled = true));
    await sleep(60);
    expect(settled).toBe(false);
    expect(t.count("send")).toBe(0);
    // Only the 1+K ranked replicas are ever probed: the fourth replica is not a fallback.
    const ranked = new Set(ranksOf(SESSION));
    for (const c of t.calls) expect(ranked.has(c.replicaId)).toBe(true);
    // The primary drains; no membership update is needed for the loop to notice.
    t.setProbe(primary!, 0);
    expect(await res).toBe(primary);
  });

  it("routes to the fallback when the primary is gone (no responders), and keeps it dropped", async () => {
    const [primary, fb1] = ranksOf(SESSION);
    const t = new FakeTransport();
    healthy(t);
    t.setProbe(primary!, NO_RESPONDERS);
    t.setSend(primary!, () => null);
    const d = deploy(t);
    expect(await d.call([], { sessionId: SESSION })).toBe(fb1);
    expect(d.dispatcher.isRoutable(primary!)).toBe(false);
    for (let i = 0; i < 5; i++) expect(await d.call([], { sessionId: SESSION })).toBe(fb1);
    expect(t.count("send", primary)).toBe(0);
  });

  it("reroutes a send that reached nobody to the next rank", async () => {
    const [primary, fb1] = ranksOf(SESSION);
    const t = new FakeTransport();
    healthy(t);
    t.setSend(primary!, () => null); // probes still answer (the process died between probe and send)
    const d = deploy(t);
    expect(await d.call([], { sessionId: SESSION })).toBe(fb1);
    expect(t.count("send", primary)).toBe(1);
  });

  it("falls over while the primary does not answer probes, and returns to it once it recovers", async () => {
    const [primary, fb1] = ranksOf(SESSION);
    const t = new FakeTransport();
    healthy(t);
    t.setProbe(primary!, undefined); // probes hang until their deadline
    const d = deploy(t);
    expect(await d.call([], { sessionId: SESSION })).toBe(fb1);
    expect(d.dispatcher.isRoutable(primary!)).toBe(true); // unavailable is not dead
    t.setProbe(primary!, 0);
    await waitUntil(async () => (await d.call([], { sessionId: SESSION })) === primary, {
      timeoutMs: 5000,
      message: "session back on its primary",
    });
  });

  it("routes a concurrent same-session burst without orphaning any request, all on one replica", async () => {
    const [primary] = ranksOf(SESSION, ["r0", "r1", "r2"]);
    const t = new FakeTransport();
    healthy(t, ["r0", "r1", "r2"]);
    const d = deploy(t, {}, ["r0", "r1", "r2"]);
    // 1 + K + 2 = 5 requests at once, as in Ray's test_concurrent_same_session_does_not_orphan.
    const t0 = performance.now();
    const got = await Promise.all(Array.from({ length: 5 }, () => d.call([], { sessionId: SESSION })));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(new Set(got)).toEqual(new Set([primary]));
  });

  it("keeps a burst on one replica even when replies arrive late (requests stay in flight together)", async () => {
    const [primary] = ranksOf(SESSION);
    const t = new FakeTransport();
    for (const id of IDS) t.setProbe(id, 0); // sends stay open until answered below
    const d = deploy(t);
    const calls = Array.from({ length: 6 }, () => d.call([], { sessionId: SESSION }));
    await waitUntil(() => t.openSends().length === 6, { message: "6 sends open" });
    expect(new Set(t.openSends().map((s) => s.replicaId))).toEqual(new Set([primary]));
    for (const s of t.openSends()) s.reply(ok(s.replicaId, 0));
    expect(new Set(await Promise.all(calls))).toEqual(new Set([primary]));
  });

  it("with loadBound, spreads one hot session's in-flight requests that would pile on its primary", async () => {
    const t = new FakeTransport();
    for (const id of IDS) t.setProbe(id, 0);
    const d = deploy(t, { loadBound: 1.25 });
    // The requests arrive one after another while the earlier ones are still running. (Ranks are
    // computed before the loop's first probe, so 12 submitted in one tick would all see zero load.)
    const calls = [];
    for (let i = 1; i <= 12; i++) {
      calls.push(d.call([], { sessionId: SESSION }));
      await waitUntil(() => t.openSends().length === i, { message: `${i} sends open` });
    }
    const perReplica = new Map<string, number>();
    for (const s of t.openSends()) perReplica.set(s.replicaId, (perReplica.get(s.replicaId) ?? 0) + 1);
    // The handle's in-flight counts feed the bound: ceil(1.25 * 12 / 4) = 4 at the end, +1 slack.
    expect(Math.max(...perReplica.values())).toBeLessThanOrEqual(5);
    expect(perReplica.size).toBeGreaterThanOrEqual(3);
    for (const s of t.openSends()) s.reply(ok(s.replicaId, 0));
    await Promise.all(calls);
  });
});
