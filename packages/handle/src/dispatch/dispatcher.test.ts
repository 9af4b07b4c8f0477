import { errorToWire, ReplyKind } from "@tsserve/protocol/internal";
import {
  isUserCodeError,
  isBackPressureError,
  isConfigError,
  isReplicaDiedError,
  isRequestCancelledError,
  isRequestTimeoutError,
  type ReplicaInfo,
} from "@tsserve/protocol";
import { describe, expect, it, vi } from "vitest";
import {
  FakeTransport,
  NO_RESPONDERS,
  chunk,
  fakeDeployment,
  ok,
  rejected,
  replicas,
  streamEnd,
  streamStart,
  accepted,
} from "../../test/helpers/fake-transport.js";
import { RequestRouter, type RoutingRequest } from "../request-router.js";
import { errorOf } from "../../test/helpers/error-of.js";
import { sweepLiveness } from "../liveness-monitor.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sendTargets = (t: FakeTransport) => t.calls.filter((c) => c.type === "send").map((c) => c.replicaId);

describe("routing loop (PowerOfTwoChoices, fake transport)", () => {
  it("always picks the replica with the shorter queue", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 1);
    t.setProbe("r2", 0);
    t.setSend("r1", () => ok("r1", 1));
    t.setSend("r2", () => ok("r2", 0));
    const d = fakeDeployment(t, ["r1", "r2"]);
    for (let i = 0; i < 20; i++) expect(await d.call()).toBe("r2");
    expect(new Set(sendTargets(t))).toEqual(new Set(["r2"]));
  });

  it("never picks a full replica while another has room", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 10);
    t.setProbe("r2", 3);
    t.setProbe("r3", 4);
    for (const id of ["r1", "r2", "r3"]) t.setSend(id, () => ok(id, id === "r1" ? 10 : 0));
    const d = fakeDeployment(t, ["r1", "r2", "r3"]);
    const results = await Promise.all(Array.from({ length: 50 }, () => d.call()));
    expect(results).not.toContain("r1");
    expect(sendTargets(t)).not.toContain("r1");
  });

  it("routes to a new replica when the others are full", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 10);
    t.setProbe("r2", 0);
    t.setSend("r2", () => ok("r2"));
    const d = fakeDeployment(t, ["r1"]);
    const response = d.call();
    await vi.waitFor(() => expect(t.count("probe", "r1")).toBeGreaterThanOrEqual(2));
    d.membership.update(replicas("r1", "r2"));
    expect(await response).toBe("r2");
    expect(sendTargets(t)).toEqual(["r2"]);
  });

  it("waits while there are no replicas, then routes to the first one", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setSend("r1", () => ok("hello"));
    const d = fakeDeployment(t, []);
    const response = d.call();
    await sleep(100);
    expect(t.calls).toEqual([]);
    d.membership.update(replicas("r1"));
    expect(await response).toBe("hello");
  });

  it("bounds the wait for replicas by the request's timeout", async () => {
    const t = new FakeTransport();
    const d = fakeDeployment(t, []);
    const start = performance.now();
    const error = await errorOf(d.call([], { timeoutMs: 150 }));
    expect(isRequestTimeoutError(error)).toBe(true);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("stops routing at once when the signal aborts during a probe: no send afterwards", async () => {
    const t = new FakeTransport(); // r1's probes block until set
    t.setSend("r1", () => ok("late"));
    const d = fakeDeployment(t, ["r1"]);
    const ac = new AbortController();
    const response = d.call([], { signal: ac.signal });
    await vi.waitFor(() => expect(t.count("probe")).toBe(1));
    ac.abort();
    const error = await errorOf(response);
    expect(isRequestCancelledError(error)).toBe(true);
    const before = t.calls.length;
    t.setProbe("r1", 0); // the probe now answers: the cancelled request must not send
    await sleep(200);
    expect(t.calls.length).toBe(before);
    expect(t.count("send")).toBe(0);
    expect(d.dispatcher.pendingCount).toBe(0);
    expect(d.dispatcher.queued).toBe(0);
  });

  it("stops probing after a timeout while every replica is full", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 10);
    const d = fakeDeployment(t, ["r1"]);
    const error = await errorOf(d.call([], { timeoutMs: 200 }));
    expect(isRequestTimeoutError(error)).toBe(true);
    const after = t.calls.length;
    expect(after).toBeGreaterThan(1);
    await sleep(600);
    expect(t.calls.length).toBe(after);
  });

  it("doubles the probe deadline per backoff round up to 1 s", async () => {
    const t = new FakeTransport(); // probes never answer: each waits for its deadline
    const d = fakeDeployment(t, ["r1"]);
    const error = await errorOf(d.call([], { timeoutMs: 2900 }));
    expect(isRequestTimeoutError(error)).toBe(true);
    const deadlines = t.calls.flatMap((c) => (c.type === "probe" ? [c.deadlineMs] : []));
    expect(deadlines.slice(0, 5)).toEqual([100, 200, 400, 800, 1000]);
  });

  it("retries a rejected request on another replica and caches both queue lengths", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 5);
    t.setSend("r1", () => {
      t.setProbe("r1", 10); // the replica filled up meanwhile
      return rejected(10);
    });
    t.setSend("r2", () => ok("r2", 6));
    const d = fakeDeployment(t, ["r1", "r2"]);
    expect(await d.call()).toBe("r2");
    expect(sendTargets(t)).toEqual(["r1", "r2"]);
    expect(d.dispatcher.queueLength("r1")).toBe(10);
    expect(d.dispatcher.queueLength("r2")).toBe(6);
  });

  it("raises BackPressureError at once beyond maxQueuedRequests; freeing one admits exactly one", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 10);
    const d = fakeDeployment(t, ["r1"], { maxQueuedRequests: 5 });
    d.call(); // the first call learns the config
    await vi.waitFor(() => expect(d.dispatcher.config).not.toBeNull());
    const queued = [1, 2, 3, 4].map(() => d.call());
    expect(d.dispatcher.queued).toBe(5);
    const start = performance.now();
    const error = await errorOf(d.call());
    expect(performance.now() - start).toBeLessThan(100);
    expect(isBackPressureError(error)).toBe(true);
    expect((error as Error).message).toContain("maxQueuedRequests=5");
    queued[0]!.cancel();
    await errorOf(queued[0]!);
    const admitted = d.call();
    expect(isBackPressureError(await errorOf(d.call()))).toBe(true);
    expect(d.dispatcher.queued).toBe(5);
    admitted.cancel();
    expect(isRequestCancelledError(await errorOf(admitted))).toBe(true);
    for (const q of queued) q.cancel();
  });

  it("wakes a request in backoff as soon as one of this handle's requests frees a slot", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1"], { maxOngoingRequests: 1 });
    const first = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    t.setProbe("r1", 1); // full from now on
    const second = d.call();
    await sleep(1000); // deep in backoff: the sleeps have grown to 500 ms
    expect(t.count("send")).toBe(1);
    t.openSends("r1")[0]!.reply(ok("first", 0));
    const freedAt = performance.now();
    await vi.waitFor(() => expect(t.count("send")).toBe(2), { interval: 2 });
    expect(performance.now() - freedAt).toBeLessThan(250);
    expect(await first).toBe("first");
    t.openSends("r1")[0]!.reply(ok("second", 0));
    expect(await second).toBe("second");
  });

  it("does not probe a replica whose fresh cached queue length is below capacity", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setSend("r1", () => ok("r1", 0));
    const d = fakeDeployment(t, ["r1"]);
    for (let i = 0; i < 10; i++) expect(await d.call()).toBe("r1");
    expect(t.count("probe")).toBe(1);
    expect(t.count("send")).toBe(10);
  });

  it("sends to a cached replica at once and probes the unknown one in the background", async () => {
    const t = new FakeTransport(); // r2's probe blocks
    t.setProbe("r1", 0);
    t.setSend("r1", () => ok("r1", 0));
    const d = fakeDeployment(t, ["r1"]);
    expect(await d.call()).toBe("r1");
    d.membership.update(replicas("r1", "r2"));
    expect(await d.call()).toBe("r1");
    expect(t.count("probe", "r2")).toBe(1);
    expect(sendTargets(t)).toEqual(["r1", "r1"]);
  });

  it("ignores a probe answer from a replica removed meanwhile", async () => {
    const t = new FakeTransport(); // r1's probe blocks
    t.setProbe("r2", 3);
    t.setSend("r2", () => ok("r2", 3));
    const d = fakeDeployment(t, ["r1"]);
    const response = d.call();
    await vi.waitFor(() => expect(t.count("probe", "r1")).toBe(1));
    d.membership.update(replicas("r2"));
    t.setProbe("r1", 0);
    expect(await response).toBe("r2");
    expect(d.dispatcher.queueLength("r1")).toBeUndefined();
    expect(sendTargets(t)).toEqual(["r2"]);
  });

  it("result({ timeoutMs }) cancels a call that takes too long", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1"]);
    const error = await errorOf(d.call().result({ timeoutMs: 100 }));
    expect(isRequestTimeoutError(error)).toBe(true);
    expect(t.openSends()).toEqual([]);
    expect(d.dispatcher.inFlightTotal).toBe(0);
  });

  it("drops a replica that has no responders and retries elsewhere", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 1);
    t.setSend("r1", () => null);
    t.setSend("r2", () => ok("r2", 0));
    const d = fakeDeployment(t, ["r1", "r2"]);
    expect(await d.call()).toBe("r2");
    for (let i = 0; i < 5; i++) expect(await d.call()).toBe("r2");
    expect(sendTargets(t).filter((id) => id === "r1")).toHaveLength(1);
    expect(d.dispatcher.isRoutable("r1")).toBe(false);
    d.membership.update(replicas("r1", "r2")); // listed again: routable again
    expect(d.dispatcher.isRoutable("r1")).toBe(true);
  });

  it("fails a request whose replica died mid-request with ReplicaDiedError", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1"]);
    const response = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    t.openSends("r1")[0]!.reply(accepted(1)); // the replica took it: it may have run
    sweepLiveness(d.dispatcher, 0, 100); // alive: nothing happens
    await sleep(20);
    expect(d.dispatcher.pendingCount).toBe(1);
    t.setProbe("r1", NO_RESPONDERS);
    sweepLiveness(d.dispatcher, 0, 100);
    const error = await errorOf(response);
    expect(isReplicaDiedError(error)).toBe(true);
    expect((error as Error).message).toContain("r1");
    expect(d.dispatcher.inFlightTotal).toBe(0);
  });

  it("sends a call elsewhere when its replica is found dead before acknowledging it", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    t.setSend("r2", () => ok("r2"));
    const d = fakeDeployment(t, ["r1"]);
    const response = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    d.membership.update(replicas("r1", "r2"));
    t.setProbe("r1", NO_RESPONDERS); // it never reached r1: NATS delivered it to a dead process
    sweepLiveness(d.dispatcher, 0, 100);
    expect(await response).toBe("r2");
    expect(d.dispatcher.isRoutable("r1")).toBe(false);
  });

  it("retries an idempotent call on another replica when its replica dies while running it", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    const d = fakeDeployment(t, ["r1"], { idempotent: ["__call__"], maxRetries: 1 });
    const response = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    t.openSends("r1")[0]!.reply(accepted(1));
    t.setSend("r2", () => ok("again"));
    d.membership.update(replicas("r1", "r2"));
    t.setProbe("r1", NO_RESPONDERS);
    sweepLiveness(d.dispatcher, 0, 100);
    expect(await response).toBe("again");
  });

  it("fails an idempotent call once its retries are spent", async () => {
    const t = new FakeTransport();
    for (const id of ["r1", "r2", "r3"]) t.setProbe(id, 0);
    const d = fakeDeployment(t, ["r1"], { idempotent: true, maxRetries: 1 });
    const response = d.call();
    for (const [dead, next] of [
      ["r1", "r2"],
      ["r2", "r3"],
    ] as const) {
      await vi.waitFor(() => expect(t.openSends(dead)).toHaveLength(1));
      t.openSends(dead)[0]!.reply(accepted(1));
      d.membership.update(replicas(dead, next));
      t.setProbe(dead, NO_RESPONDERS);
      sweepLiveness(d.dispatcher, 0, 100);
      if (next === "r3") break;
    }
    const error = await errorOf(response);
    expect(isReplicaDiedError(error)).toBe(true);
    expect(t.count("send")).toBe(2);
  });

  it("fails a non-idempotent call whose replica stops answering, and stops routing to it", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1", "r2"]);
    t.setProbe("r2", 10);
    const response = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    t.setProbe("r1", undefined); // r1's probes now go unanswered (a cut link, a stopped process)
    sweepLiveness(d.dispatcher, 0, 20); // short deadlines do not count as "unreachable"
    await sleep(60);
    expect(d.dispatcher.isRoutable("r1")).toBe(true);
    for (let i = 0; i < 2; i++) {
      sweepLiveness(d.dispatcher, 0, 1000);
      await vi.waitFor(() => expect(t.count("probe", "r1")).toBe(3 + i), { timeout: 3000 });
      await sleep(1050);
    }
    expect(d.dispatcher.isRoutable("r1")).toBe(false); // two silent seconds: out of routing
    sweepLiveness(d.dispatcher, 0, 1000);
    const error = await errorOf(response);
    expect(isReplicaDiedError(error)).toBe(true);
    expect((error as Error).message).toContain("stopped answering");
  });

  it("lets a replica removed from the membership finish its in-flight requests", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    const d = fakeDeployment(t, ["r1", "r2"]);
    t.setProbe("r2", 10);
    const response = d.call();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    d.membership.update(replicas("r2"));
    sweepLiveness(d.dispatcher, 0, 100);
    await sleep(20);
    t.openSends("r1")[0]!.reply(ok("finished"));
    expect(await response).toBe("finished");
  });

  it("delivers stream chunks in order and ends the stream", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setSend("r1", () => streamStart());
    const d = fakeDeployment(t, ["r1"]);
    const s = d.stream();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    const send = t.openSends("r1")[0]!;
    expect(send.request.stream).toBe(true);
    for (const v of [1, 2, 3]) send.reply(chunk(v));
    send.reply(streamEnd());
    expect(await s.collect()).toEqual([1, 2, 3]);
  });

  it("ends a stream that fails midway with the error after the chunks, counting it routed once", async () => {
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setSend("r1", () => streamStart());
    const routed: string[] = [];
    const d = fakeDeployment(t, ["r1"], {}, { metrics: { requestRouted: (_a, _d, id) => routed.push(id) } });
    const s = d.stream();
    await vi.waitFor(() => expect(t.openSends("r1")).toHaveLength(1));
    const send = t.openSends("r1")[0]!;
    send.reply(chunk("a"));
    send.reply({
      kind: ReplyKind.ERROR,
      queueLen: 0,
      error: errorToWire(new Error("generator blew up"), true),
    });
    const got: unknown[] = [];
    const error = await errorOf(
      (async () => {
        for await (const c of s) got.push(c);
      })(),
    );
    expect(got).toEqual(["a"]);
    expect(isUserCodeError(error)).toBe(true);
    expect((error as Error).message).toBe("generator blew up");
    expect(routed).toEqual(["r1"]);
  });

  it("calls the router hooks and the metrics sink with the group rank", async () => {
    const events: string[] = [];
    class Ranked extends RequestRouter {
      override chooseReplicas(c: readonly ReplicaInfo[], _r: RoutingRequest): ReplicaInfo[][] {
        return c.map((r) => [r]);
      }
      override onRequestRouted(_r: RoutingRequest, id: string) {
        events.push(`routed:${id}:${this.context.inFlight(id)}`);
      }
      override onRequestCompleted(_r: RoutingRequest, id: string) {
        events.push(`completed:${id}`);
      }
      override onReplicaDied(id: string) {
        events.push(`died:${id}`);
      }
    }
    const t = new FakeTransport();
    t.setProbe("r1", 0);
    t.setProbe("r2", 0);
    t.setSend("r1", () => null);
    t.setSend("r2", () => ok("ok"));
    const metrics: string[] = [];
    const d = fakeDeployment(
      t,
      ["r1", "r2"],
      {},
      {
        createRouter: async (_cfg, ctx) => new Ranked(ctx, {}),
        metrics: {
          requestRouted: (_a, _d, id, rank) => metrics.push(`routed:${id}:${rank}`),
          requestCompleted: (_a, _d, _ms, outcome) => metrics.push(`completed:${outcome}`),
        },
      },
    );
    expect(await d.call()).toBe("ok");
    // r1 reached nobody and was dropped; the router ranks the call again over what is left, so
    // r2 is now its first choice (rank 0). With r1 still listed r2 would be rank 1 (next test).
    expect(events).toEqual(["died:r1", "routed:r2:0", "completed:r2"]);
    expect(metrics).toEqual(["routed:r2:0", "completed:ok"]);
  });

  it("reports the rank of the group a full first choice spilled to", async () => {
    class Ranked extends RequestRouter {
      override chooseReplicas(c: readonly ReplicaInfo[], _r: RoutingRequest): ReplicaInfo[][] {
        return c.map((r) => [r]);
      }
    }
    const t = new FakeTransport();
    t.setProbe("r1", 10);
    t.setProbe("r2", 0);
    t.setSend("r2", () => ok("ok"));
    const metrics: string[] = [];
    const d = fakeDeployment(
      t,
      ["r1", "r2"],
      {},
      {
        createRouter: async (_cfg, ctx) => new Ranked(ctx, {}),
        metrics: { requestRouted: (_a, _d, id, rank) => metrics.push(`routed:${id}:${rank}`) },
      },
    );
    expect(await d.call()).toBe("ok");
    expect(metrics).toEqual(["routed:r2:1"]);
  });

  it("fails requests with the ConfigError of a router that cannot be created", async () => {
    const t = new FakeTransport();
    const d = fakeDeployment(t, ["r1"], { requestRouter: { class: "NoSuchRouter", kwargs: {} } });
    const error = await errorOf(d.call());
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('"NoSuchRouter"');
    expect((error as Error).message).toContain('"PowerOfTwoChoices"');
    expect(isConfigError(await errorOf(d.call()))).toBe(true);
  });
});
