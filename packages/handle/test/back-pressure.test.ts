import { isBackPressureError, isRequestCancelledError } from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";
import { errorOf } from "./helpers/error-of.js";

describe("maxQueuedRequests (real replica)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1"], options: { maxOngoingRequests: 1 } });
    client = await connect({ address: nats.url });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("raises BackPressureError at once for the 6th queued call; freeing a slot admits exactly one", async () => {
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({
        replicas: replicas.infos,
        config: { maxOngoingRequests: 1, maxQueuedRequests: 5 },
      }),
    });
    const busy = h.options({ timeoutMs: 20_000 }).slow.remote(1500); // takes the replica's only slot
    await new Promise((r) => setTimeout(r, 300));
    const queued = Array.from({ length: 5 }, () => h.options({ timeoutMs: 20_000 }).slow.remote(10));
    const start = performance.now();
    const sixth = await errorOf(h.slow.remote(10));
    expect(performance.now() - start).toBeLessThan(100);
    expect(isBackPressureError(sixth)).toBe(true);
    expect((sixth as Error).message).toContain("maxQueuedRequests=5");

    queued[0]!.cancel(); // frees one queue slot
    expect(isRequestCancelledError(await errorOf(queued[0]!))).toBe(true);
    const admitted = h.options({ timeoutMs: 20_000 }).slow.remote(10);
    expect(isBackPressureError(await errorOf(h.slow.remote(10)))).toBe(true);

    const pids = await Promise.all([busy, ...queued.slice(1), admitted]);
    expect(pids).toHaveLength(6);
    // With the queue drained, calls are admitted again.
    expect(typeof (await h.slow.remote(1))).toBe("number");
  });
});
