import { randomUUID } from "node:crypto";
import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeReply, ReplyKind } from "@tsserve/protocol/internal";
import {
  startNats,
  waitUntil,
  type NatsFixture,
  startReplica,
  type ReplicaFixture,
} from "@tsserve/test-utils";
import { call, makeSpec } from "./helpers.js";

describe("strict maxOngoingRequests", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    replica = await startReplica(makeSpec(nats.url, "echo-app.ts#app", "Echo", { maxOngoingRequests: 2 }), {
      nc,
    });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  const probe = async (): Promise<number> => {
    const r = decodeReply(
      (await nc.request(replica.probeSubject, new Uint8Array([1]), { timeout: 2000 })).data,
    );
    expect(r.kind).toBe(ReplyKind.QUEUE_LEN);
    return r.queueLen;
  };

  it("rejects the 3rd concurrent request at once with queueLen 2, and probes report the count", async () => {
    expect(await probe()).toBe(0);
    const a = call(nc, replica.requestSubject, "block", ["a"]);
    await waitUntil(async () => (await probe()) === 1, { message: "first request running" });
    const b = call(nc, replica.requestSubject, "block", ["b"]);
    await waitUntil(async () => (await probe()) === 2, { message: "second request running" });

    const t0 = performance.now();
    const third = await call(nc, replica.requestSubject, "add", [1, 2]);
    expect(third.kind).toBe(ReplyKind.REJECTED);
    expect(third.queueLen).toBe(2);
    expect(performance.now() - t0).toBeLessThan(1000); // at once, not after the blocked calls

    // Unknown methods are answered even when full: they never take a slot.
    expect((await call(nc, replica.requestSubject, "nope")).kind).toBe(ReplyKind.ERROR);

    replica.child.kill("SIGUSR2");
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.kind).toBe(ReplyKind.OK);
    expect((ra as { value: unknown }).value).toBe("released a");
    expect((rb as { value: unknown }).value).toBe("released b");
    expect(rb.queueLen).toBeLessThanOrEqual(1);
    expect(await probe()).toBe(0);
  });

  it("reports the count after completion on OK replies", async () => {
    const r = await call(nc, replica.requestSubject, "add", [1, 1], { sessionId: randomUUID() });
    expect(r.queueLen).toBe(0);
  });
});
