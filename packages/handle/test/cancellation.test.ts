import { type NatsConnection } from "nats";
import { encodeRequest, probeSubject, requestSubject } from "@tsserve/protocol/internal";
import { isRequestCancelledError, isRequestTimeoutError } from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";
import { errorOf } from "./helpers/error-of.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cancellation stops routing at once (real replica)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;
  let spy: NatsConnection;
  const seen = { probes: 0, requests: 0 };

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1"], options: { maxOngoingRequests: 1 } });
    client = await connect({ address: nats.url });
    spy = nats.nc;
    spy.subscribe(probeSubject("tsserve", "app", "Echo", "r1"), { callback: () => void seen.probes++ });
    spy.subscribe(requestSubject("tsserve", "app", "Echo", "r1"), { callback: () => void seen.requests++ });
    await spy.flush();
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  // Occupies the replica's only slot from a raw connection (no handle, so no liveness probes).
  const occupy = (ms: number) =>
    spy.request(
      requestSubject("tsserve", "app", "Echo", "r1"),
      encodeRequest({ requestId: `busy-${ms}`, method: "slow", args: [ms], sessionId: null, stream: false }),
      { timeout: ms + 5000 },
    );

  const handle = () =>
    client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: replicas.infos, config: { maxOngoingRequests: 1 } }),
    });

  it("a timed-out call fails at its timeout and then never probes or sends again", async () => {
    const busy = occupy(2500);
    await sleep(200);
    const start = performance.now();
    const error = await errorOf(handle().options({ timeoutMs: 400 }).slow.remote(1));
    const elapsed = performance.now() - start;
    expect(isRequestTimeoutError(error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
    expect(seen.probes).toBeGreaterThan(0); // it was probing the full replica
    await sleep(50);
    const after = { ...seen };
    await sleep(1000);
    expect(seen).toEqual(after);
    await busy;
  });

  it("a call cancelled by its signal fails with RequestCancelledError and never probes again", async () => {
    const busy = occupy(2500);
    await sleep(200);
    const ac = new AbortController();
    const response = handle().options({ signal: ac.signal }).slow.remote(1);
    await sleep(300);
    ac.abort();
    expect(isRequestCancelledError(await errorOf(response))).toBe(true);
    await sleep(50);
    const after = { ...seen };
    await sleep(1000);
    expect(seen).toEqual(after);
    expect(client.pendingRequests).toBe(0);
    await busy;
  });
});
