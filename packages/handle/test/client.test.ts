import { type NatsConnection } from "nats";
import { decode, handleMetricsSubject, type HandleMetrics } from "@tsserve/protocol/internal";
import { isRequestCancelledError } from "@tsserve/protocol";
import { startNats, waitUntil, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, connect, staticMembership, type HandleMetricsSink } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";
import { errorOf } from "./helpers/error-of.js";

describe("Client (real nats-server and replica)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1"] });
    nc = nats.nc;
  });

  afterAll(async () => {
    await replicas?.stop();
    await nats?.stop();
  });

  const handleOf = (client: Client) =>
    client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: replicas.infos }),
    });

  it("works over a borrowed connection and leaves it open on close()", async () => {
    const client = Client.fromConnection(nc);
    expect(await handleOf(client).reply.remote("x")).toBe("reply:x");
    await client.close();
    expect(nc.isClosed()).toBe(false);
    expect(() => handleOf(client)).toThrow(/closed/);
  });

  it("rejects pending requests with a clear error on close()", async () => {
    const client = await connect({ address: nats.url });
    const pending = handleOf(client).slow.remote(2000);
    await new Promise((r) => setTimeout(r, 100));
    await client.close();
    const error = await errorOf(pending);
    expect(isRequestCancelledError(error)).toBe(true);
    expect((error as Error).message).toContain("client was closed");
    expect(client.nc.isClosed()).toBe(true);
  });

  it("publishes HandleMetrics while requests are in flight, then once more at zero", async () => {
    const seen: HandleMetrics[] = [];
    const sub = nc.subscribe(handleMetricsSubject("tsserve", "app", "Echo"), {
      callback: (_e, m) => void seen.push(decode(m.data) as HandleMetrics),
    });
    await nc.flush();
    const client = await connect({ address: nats.url });
    const slow = handleOf(client).slow.remote(2300);
    expect(typeof (await slow)).toBe("number");
    await waitUntil(() => seen.some((m) => m.inFlight === 0), { timeoutMs: 3000, message: "a final zero" });
    sub.unsubscribe();
    expect(
      seen.some((m) => m.inFlight === 1 && m.queued === 0 && m.app === "app" && m.deployment === "Echo"),
    ).toBe(true);
    expect(new Set(seen.map((m) => m.handleId))).toEqual(new Set([client.id]));
    const zeros = seen.filter((m) => m.inFlight === 0 && m.queued === 0);
    expect(zeros).toHaveLength(1);
    await client.close();
  });

  it("feeds the HandleMetricsSink: routed with rank, queue lengths, completions", async () => {
    const events: string[] = [];
    const metrics: HandleMetricsSink = {
      requestRouted: (app, dep, id, rank) => events.push(`routed ${app}/${dep} ${id} ${rank}`),
      queueLength: (_a, _d, id) => events.push(`queue ${id}`),
      requestCompleted: (_a, _d, ms, outcome) => events.push(`completed ${outcome} ${ms >= 0}`),
    };
    const client = await connect({ address: nats.url, metrics });
    await handleOf(client).reply.remote("x");
    await errorOf(handleOf(client).fail.remote("boom"));
    await client.close();
    expect(events).toContain("routed app/Echo r1 0");
    expect(events).toContain("queue r1");
    expect(events).toContain("completed ok true");
    expect(events).toContain("completed USER_CODE true");
  });
});
