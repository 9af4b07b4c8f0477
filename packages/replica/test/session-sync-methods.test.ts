import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplyKind } from "@tsserve/protocol/internal";
import { startNats, startReplica, type NatsFixture, type ReplicaFixture } from "@tsserve/test-utils";
import { call, makeSpec, okValue } from "./helpers.js";

/**
 * Methods that return a plain value (no promise) in a memory-mode session deployment: the session
 * layer keeps them synchronous (no async wrapper), and must still run a session's calls one after
 * the other, in order, however many are queued at the replica.
 */
describe("synchronous methods of a memory-mode session deployment", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;
  const at = (method: string, sessionId: string): Promise<unknown> =>
    call(nc, replica.requestSubject, method, [], { sessionId, timeoutMs: 20_000 }).then(okValue);

  beforeAll(async () => {
    nats = await startNats();
    nc = nats.nc;
    // A limit high enough that thousands of one session's calls queue at the replica itself.
    const options = { sessionState: { mode: "memory" as const }, maxOngoingRequests: 5000 };
    replica = await startReplica(makeSpec(nats.url, "session-app.ts#app", "Sessions", options), { nc });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("runs 3,000 queued calls of one session in arrival order, each seeing the one before", async () => {
    const n = 3000;
    // One connection publishes in order, so the replica receives them in this order.
    const got = await Promise.all(Array.from({ length: n }, () => at("bumpNow", "deep")));
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(await at("bumpNow", "deep")).toBe(n);
  }, 60_000);

  it("answers a synchronous throw as the user's error, and the session's next call runs", async () => {
    const r = await call(nc, replica.requestSubject, "failNow", [], { sessionId: "fails" });
    expect(r.kind).toBe(ReplyKind.ERROR);
    if (r.kind !== ReplyKind.ERROR) return;
    expect(r.error.message).toContain("failNow always throws");
    // The failed call released its turn: the next one runs (and sees what failNow set).
    expect(await at("bumpNow", "fails")).toBe(-1);
  });
});
