import { randomBytes } from "node:crypto";
import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeReply, encode, encodeRequest, ReplyKind, type WireError } from "@tsserve/protocol/internal";
import {
  startNats,
  waitUntil,
  type NatsFixture,
  startReplica,
  type ReplicaFixture,
} from "@tsserve/test-utils";
import { call, makeSpec } from "./helpers.js";

const valid = encodeRequest({ requestId: "r1", method: "add", args: [1, 2], sessionId: null, stream: false });

/** Bodies a broken or hostile client might send. */
const BAD_BODIES: Record<string, Uint8Array> = {
  "empty body": new Uint8Array(),
  "random bytes": new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37]),
  "truncated msgpack": valid.subarray(0, valid.length - 3),
  "a map instead of an array": encode({ requestId: "r1", method: "add" }),
  "a short array": encode([1, "r1", "add"]),
  "a wrong wire version": encode([99, "r1", "add", [], null, 0]),
  "a numeric request id": encode([1, 42, "add", [], null, 0]),
  "an empty method": encode([1, "r1", "", [], null, 0]),
  "args that are not an array": encode([1, "r1", "add", "1,2", null, 0]),
  "a numeric session id": encode([1, "r1", "add", [], 7, 0]),
  "a bad stream flag": encode([1, "r1", "add", [], null, "yes"]),
  "a JSON body": new TextEncoder().encode(JSON.stringify({ method: "add", args: [1, 2] })),
};

describe("malformed requests", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    replica = await startReplica(makeSpec(nats.url, "echo-app.ts", "Echo"), { nc });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  for (const [what, body] of Object.entries(BAD_BODIES)) {
    it(`answers ${what} with BAD_REQUEST and keeps serving`, async () => {
      const reply = decodeReply((await nc.request(replica.requestSubject, body, { timeout: 2000 })).data);
      expect(reply.kind).toBe(ReplyKind.ERROR);
      const err = (reply as { error: WireError }).error;
      expect(err.code).toBe("BAD_REQUEST");
      expect(err.message.length).toBeGreaterThan(5);
      expect(reply.queueLen).toBe(0);
      expect((await call(nc, replica.requestSubject, "add", [2, 2])).kind).toBe(ReplyKind.OK);
    });
  }

  it("drops bad bodies without a reply subject, logs a line, and keeps serving", async () => {
    for (const body of Object.values(BAD_BODIES)) nc.publish(replica.requestSubject, body);
    await nc.flush();
    const r = await call(nc, replica.requestSubject, "add", [20, 22]);
    expect(r.kind).toBe(ReplyKind.OK);
    expect((r as { value: unknown }).value).toBe(42);
    // stderr travels through a pipe, so the log line may arrive after the reply.
    await waitUntil(() => replica.stderr().includes("dropped a bad request without reply subject"), {
      timeoutMs: 3000,
      message: "log line about the dropped request",
    });
  });

  it("survives 300 random bodies (bounded fuzz) with and without reply subjects", async () => {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const body = randomBytes(1 + (i % 64));
      if (i % 2 === 0) nc.publish(replica.requestSubject, body);
      else
        pending.push(
          nc.request(replica.requestSubject, body, { timeout: 3000 }).then((m) => decodeReply(m.data).kind),
        );
    }
    const kinds = await Promise.all(pending);
    // Random bytes can decode as a valid msgpack value, never as a valid request.
    expect(kinds.every((k) => k === ReplyKind.ERROR)).toBe(true);
    expect((await call(nc, replica.requestSubject, "add", [1, 1])).kind).toBe(ReplyKind.OK);
    expect(replica.child.exitCode).toBeNull();
  });
});
