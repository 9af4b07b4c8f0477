// Durable `ttlS` on a real nats-server: the bucket's `max_age` (= ttlS, as the controller sets it)
// ages a record from its last write, so a session whose calls only read must have its record
// rewritten by its owner, or the record expires under a live owner and the session's next write is
// refused. A session nobody calls expires: its state is gone on the next call.
import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionBucketName, sessionKey, type Reply } from "@tsserve/protocol/internal";
import { startNats, startReplica, type NatsFixture, type ReplicaFixture } from "@tsserve/test-utils";
import { APP, call, makeSpec, PREFIX, okValue } from "./helpers.js";

const TTL_S = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ok = okValue;

describe("durable sessionState.ttlS against the bucket's max_age", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;
  const at = (method: string, args: unknown[], sessionId: string): Promise<Reply> =>
    call(nc, replica.requestSubject, method, args, { sessionId });

  beforeAll(async () => {
    nats = await startNats();
    nc = nats.nc;
    // The bucket as the controller makes it for this deployment: max_age = ttlS.
    const bucket = sessionBucketName(PREFIX, APP, "Sessions");
    await nc.jetstream().views.kv(bucket, { history: 1, allow_direct: false, ttl: TTL_S * 1000 });
    const options = {
      sessionState: { mode: "durable" as const, ttlS: TTL_S },
      shared: ["read"],
      maxOngoingRequests: 20,
    };
    replica = await startReplica(makeSpec(nats.url, "session-app.ts#app", "Sessions", options), { nc });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("keeps the record of a session that only reads for longer than ttlS; its next write is stored", async () => {
    const kv = await nc.jetstream().views.kv(sessionBucketName(PREFIX, APP, "Sessions"), { bindOnly: true });
    ok(await at("append", [1], "reader"));
    // Reads only, every 400 ms, for 2.5 × ttlS: the session is in use but writes nothing itself.
    const until = Date.now() + TTL_S * 2500;
    while (Date.now() < until) {
      expect(ok(await at("read", [], "reader")).value).toEqual([1]);
      await sleep(400);
    }
    expect(await kv.get(sessionKey("reader"))).not.toBeNull();
    // Without the owner's refresh the record would be gone and this write refused (ownership lost).
    expect(ok(await at("append", [2], "reader"))).toMatchObject({ seen: [1] });
  }, 30_000);

  it("expires a session nobody calls for ttlS: record deleted, the next call starts empty", async () => {
    const kv = await nc.jetstream().views.kv(sessionBucketName(PREFIX, APP, "Sessions"), { bindOnly: true });
    ok(await at("append", [1], "idle"));
    expect(await kv.get(sessionKey("idle"))).not.toBeNull();
    await sleep(TTL_S * 1000 * 1.75);
    const gone = await kv.get(sessionKey("idle"));
    expect(gone === null || gone.operation !== "PUT").toBe(true);
    expect(ok(await at("append", [2], "idle"))).toMatchObject({ seen: [], origin: "new" });
  }, 30_000);
});
