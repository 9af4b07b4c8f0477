import { type KV, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decode,
  decodeSessionRecord,
  encodeSessionRecord,
  ReplyKind,
  sessionBucketName,
  sessionKey,
  type Reply,
} from "@tsserve/protocol/internal";
import { startNats, startReplica, type NatsFixture, type ReplicaFixture } from "@tsserve/test-utils";
import { APP, call, makeSpec, PREFIX, okValue } from "./helpers.js";

const ok = okValue;
const errorOf = (r: Reply): { code: string; message: string } => {
  if (r.kind !== ReplyKind.ERROR) throw new Error(`expected ERROR, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("getSessionState on one durable replica", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;
  let stateless: ReplicaFixture;
  let kv: KV;
  const at = (method: string, args: unknown[], sessionId?: string): Promise<Reply> =>
    call(nc, replica.requestSubject, method, args, sessionId === undefined ? {} : { sessionId });

  beforeAll(async () => {
    nats = await startNats();
    nc = nats.nc;
    const options = {
      sessionState: { mode: "durable" as const, maxBytes: 1000 },
      shared: ["read"],
      maxOngoingRequests: 20,
    };
    replica = await startReplica(makeSpec(nats.url, "session-app.ts#app", "Sessions", options), { nc });
    // The same class without sessionState (the replica's spec decides, not the code's options).
    const plain = makeSpec(nats.url, "session-app.ts#app", "Sessions");
    stateless = await startReplica(
      { ...plain, app: "plainapp", config: { ...plain.config, sessionState: null } },
      { nc },
    );
    kv = await nc.jetstream().views.kv(sessionBucketName(PREFIX, APP, "Sessions"), { bindOnly: true });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await stateless?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("keeps what set() stored for the session's next call; delete() forgets it; sessions are separate", async () => {
    expect(ok(await at("append", [1], "a"))).toMatchObject({ seen: [], origin: "new" });
    expect(ok(await at("append", [2], "a"))).toMatchObject({ seen: [1], origin: "new" });
    expect(ok(await at("append", [7], "b")).seen).toEqual([]);
    expect(ok(await at("read", [], "a")).value).toEqual([1, 2]);
    ok(await at("erase", [], "a"));
    expect(ok(await at("read", [], "a")).value).toBeNull();
    expect(ok(await at("read", [], "b")).value).toEqual([7]);
  });

  it("runs a session's calls one at a time in arrival order, shared calls together, other sessions in parallel", async () => {
    const n = 8;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => at("append", [i, 30], "serial")));
    // Arrival order: call i saw exactly the calls sent before it.
    replies.forEach((r, i) => expect(ok(r).seen).toEqual(Array.from({ length: i }, (_, k) => k)));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => at("read", [150], "serial")));
    const sharedMs = performance.now() - t0;
    const o = ok(await at("overlaps", []));
    expect(o.exclusive).toBe(1);
    expect(o.shared).toBeGreaterThan(1);
    expect(sharedMs).toBeLessThan(5 * 150); // ran together, not one after the other
  });

  it("writes the state to the KV bucket before the reply (durable)", async () => {
    ok(await at("put", [{ turn: 3, text: "héllo" }], "durable-1"));
    const e = await kv.get(sessionKey("durable-1"));
    expect(e).not.toBeNull();
    const rec = decodeSessionRecord(e!.value);
    expect(rec.owner).toBe(replica.spec.replicaId);
    expect(rec.parked).toBe(false);
    expect(decode(rec.state!)).toEqual({ turn: 3, text: "héllo" });
  });

  it("refuses a stale owner's write after another writer took the record: SESSION_OWNERSHIP_LOST, then recovers", async () => {
    ok(await at("append", [1], "stolen"));
    const e = (await kv.get(sessionKey("stolen")))!;
    const rec = decodeSessionRecord(e.value);
    // A second writer (an owner this replica never heard of) takes the record by compare-and-set.
    await kv.update(
      sessionKey("stolen"),
      encodeSessionRecord({ ...rec, owner: "intruder", generation: 9, state: rec.state, at: Date.now() }),
      e.revision,
    );
    const lost = errorOf(await at("append", [2], "stolen"));
    expect(lost.code).toBe("SESSION_OWNERSHIP_LOST");
    expect(lost.message).toMatch(/no longer owns it/);
    // Nothing was written by the refused call.
    expect(decodeSessionRecord((await kv.get(sessionKey("stolen")))!.value).owner).toBe("intruder");
    // The next call takes the session over again (the "intruder" does not answer) with the stored state.
    const again = ok(await at("append", [3], "stolen"));
    expect(again).toMatchObject({ seen: [1], origin: "restored" });
  });

  it("refuses a state over maxBytes with a clear error and keeps the previous state", async () => {
    ok(await at("put", ["small"], "big"));
    const err = errorOf(await at("putBytes", [5000], "big"));
    expect(err.code).toBe("SESSION_STATE");
    expect(err.message).toMatch(/over sessionState\.maxBytes \(1000\); the previous state is kept/);
    expect(ok(await at("read", [], "big")).value).toBe("small");
  });

  it("refuses a value the codec cannot encode, naming the path, and keeps the previous state", async () => {
    ok(await at("put", [[1]], "cyclic"));
    const err = errorOf(await at("putCyclic", [], "cyclic"));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/session state of "cyclic" cannot be encoded: it is cyclic: .*list/);
    expect(ok(await at("read", [], "cyclic")).value).toEqual([1]);
  });

  it("gives a typed error for a call without a session id and in a deployment without sessionState", async () => {
    const none = errorOf(await at("append", [1]));
    expect(none.code).toBe("SESSION_STATE");
    expect(none.message).toMatch(/has no session id/);
    const plain = errorOf(await call(nc, stateless.requestSubject, "append", [1], { sessionId: "s" }));
    expect(plain.code).toBe("SESSION_STATE");
    expect(plain.message).toMatch(/this deployment has no sessionState/);
  });
});
