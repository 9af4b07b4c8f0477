import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplyKind, type Reply, type WireError } from "@tsserve/protocol/internal";
import { startNats, type NatsFixture, startReplica, type ReplicaFixture } from "@tsserve/test-utils";
import { APP, call, callStream, makeSpec } from "./helpers.js";

function value(r: Reply): unknown {
  expect(r.kind).toBe(ReplyKind.OK);
  return (r as { value: unknown }).value;
}
function wireError(r: Reply): WireError {
  expect(r.kind).toBe(ReplyKind.ERROR);
  return (r as { error: WireError }).error;
}

describe("replica serving (function form)", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    replica = await startReplica(makeSpec(nats.url, "echo-app.ts", "Echo", { maxOngoingRequests: 4 }), {
      nc,
    });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("answers __call__ with the constructor's bound args and the input", async () => {
    const r = await call(nc, replica.requestSubject, "__call__", [{ x: 1 }]);
    expect(value(r)).toEqual({ tag: "echo-1", input: { x: 1 } });
    expect(r.queueLen).toBe(0);
  });

  it("answers an async named method and a sync method", async () => {
    expect(value(await call(nc, replica.requestSubject, "greet", ["ann"]))).toBe("hello ann from echo-1");
    expect(value(await call(nc, replica.requestSubject, "add", [2, 3]))).toBe(5);
  });

  it("streams an async generator: START, chunks in order, END", async () => {
    const replies = await callStream(nc, replica.requestSubject, "count", [5]);
    expect(replies.map((r) => r.kind)).toEqual([
      ReplyKind.STREAM_START,
      ...Array<number>(5).fill(ReplyKind.CHUNK),
      ReplyKind.STREAM_END,
    ]);
    expect(
      replies.filter((r) => r.kind === ReplyKind.CHUNK).map((r) => (r as { value: unknown }).value),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(replies[0]?.queueLen).toBe(1);
    expect(replies.at(-1)?.queueLen).toBe(0);
  });

  it("ends a stream with ERROR when the generator throws mid-stream", async () => {
    const replies = await callStream(nc, replica.requestSubject, "failAfter", [2]);
    expect(replies.map((r) => r.kind)).toEqual([
      ReplyKind.STREAM_START,
      ReplyKind.CHUNK,
      ReplyKind.CHUNK,
      ReplyKind.ERROR,
    ]);
    const err = wireError(replies.at(-1)!);
    expect(err.code).toBe("USER_CODE");
    expect(err.message).toBe("stream broke after 2");
    expect(err.data?.["remoteName"]).toBe("RangeError");
  });

  it("streams a non-generator method's value as a single chunk", async () => {
    const replies = await callStream(nc, replica.requestSubject, "add", [1, 1]);
    expect(replies.map((r) => r.kind)).toEqual([
      ReplyKind.STREAM_START,
      ReplyKind.CHUNK,
      ReplyKind.STREAM_END,
    ]);
    expect((replies[1] as { value: unknown }).value).toBe(2);
  });

  it("refuses a generator method called without stream, naming the fix", async () => {
    const err = wireError(await call(nc, replica.requestSubject, "count", [3]));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("stream: true");
  });

  it("keeps the user error's name and message", async () => {
    const err = wireError(await call(nc, replica.requestSubject, "fail", ["bad input 42"]));
    expect(err.code).toBe("USER_CODE");
    expect(err.message).toBe("bad input 42");
    expect(err.data?.["remoteName"]).toBe("TypeError");
  });

  it("answers unknown, private and constructor methods with METHOD_NOT_FOUND listing the methods", async () => {
    for (const m of ["nope", "_secret", "constructor", "initialize"]) {
      const err = wireError(await call(nc, replica.requestSubject, m));
      expect(err.code).toBe("METHOD_NOT_FOUND");
      expect(err.message).toContain(JSON.stringify(m));
      expect(err.message).toContain(
        "callable: __call__, add, block, context, count, fail, failAfter, greet, release",
      );
    }
  });

  it("exposes the replica context and the request's session id to user code", async () => {
    const r = await call(nc, replica.requestSubject, "context", [], { sessionId: "user_123" });
    const v = value(r) as {
      replica: Record<string, string>;
      request: Record<string, unknown>;
      initialized: boolean;
    };
    expect(v.replica).toEqual({
      appName: APP,
      deploymentName: "Echo",
      replicaId: replica.spec.replicaId,
      nodeId: "node-1",
    });
    expect(v.request["sessionId"]).toBe("user_123");
    expect(v.request["method"]).toBe("context");
    expect(typeof v.request["requestId"]).toBe("string");
    expect(v.initialized).toBe(true);
  });

  it("keeps request contexts apart across concurrent requests", async () => {
    const replies = await Promise.all(
      ["s1", "s2", "s3", "s4"].map((s) => call(nc, replica.requestSubject, "context", [], { sessionId: s })),
    );
    expect(replies.map((r) => (value(r) as { request: { sessionId: string } }).request.sessionId)).toEqual([
      "s1",
      "s2",
      "s3",
      "s4",
    ]);
  });
});

describe("replica serving (decorator form)", () => {
  it("loads a @deployment-decorated class bound with bind() and serves it", async () => {
    await using local = await startNats({ jetstream: false });
    await using replica = await startReplica(
      makeSpec(local.url, "./decorated-app.ts#greeterApp", "Greeter"),
      {
        nc: local.nc,
      },
    );
    expect(value(await call(local.nc, replica.requestSubject, "__call__", ["Ann"]))).toBe("Bonjour, Ann");
  });
});
