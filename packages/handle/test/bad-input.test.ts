import { isBadRequestError, isReplyTooLargeError, isTsserveError } from "@tsserve/protocol";
import { MAX_NESTING_DEPTH } from "@tsserve/protocol/internal";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { errorOf } from "./helpers/error-of.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

function nested(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("bad input through a handle: clear typed errors, and the replica keeps serving", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["b1"] });
    client = await connect({ address: nats.url });
  });
  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  const handle = () =>
    client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: replicas.infos }),
    });

  it("refuses a 100,000-deep argument with BadRequestError naming the depth, not a RangeError", async () => {
    const e = await errorOf(handle().remote(nested(100_000)));
    expect(isBadRequestError(e), String(e)).toBe(true);
    expect((e as Error).name).toBe("BadRequestError");
    expect((e as Error).message).toMatch(
      /call's arguments cannot be encoded: it is nested 100002 levels deep/,
    );
    expect((e as Error).message).toContain(`about ${MAX_NESTING_DEPTH}`);
    // Moderate nesting still goes through.
    expect(await handle().remote(nested(200))).toEqual({ echo: nested(200) });
  });

  it("refuses a cyclic argument with BadRequestError showing where the cycle closes", async () => {
    const a: Record<string, unknown> = { name: "a" };
    a["self"] = { back: a };
    const e = await errorOf(handle().reply.remote(a as unknown as string));
    expect(isBadRequestError(e)).toBe(true);
    expect((e as Error).message).toMatch(/it is cyclic: \$\[3\]\[0\]\.self\.back refers back/);
  });

  it("refuses values the wire cannot carry (symbol, BigInt over 64 bits) with BadRequestError", async () => {
    for (const bad of [Symbol("s"), 2n ** 70n]) {
      const e = await errorOf(handle().remote(bad));
      expect(isBadRequestError(e), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/holds a value the wire cannot carry/);
    }
  });

  it("fails a reply over max_payload with ReplyTooLargeError (the server's fault), then keeps serving", async () => {
    const e = await errorOf(handle().big.remote(1_100_000));
    expect(isReplyTooLargeError(e), String(e)).toBe(true);
    expect((e as Error).name).toBe("ReplyTooLargeError");
    expect((e as Error).message).toMatch(
      /reply of deployment Echo is 1100\d+ bytes, over the NATS server's max_payload/,
    );
    expect(await handle().reply.remote("after")).toBe("reply:after");
  });

  it("ends a stream whose chunk is over max_payload with ReplyTooLargeError after the chunks before it", async () => {
    const got: string[] = [];
    const e = await errorOf(
      (async () => {
        for await (const c of handle().options({ stream: true }).bigChunk.remote(1_100_000)) got.push(c);
      })(),
    );
    expect(got).toEqual(["ok"]);
    expect(isReplyTooLargeError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/stream chunk of deployment Echo/);
  });

  it("answers a reply nested too deeply to encode with a typed INTERNAL error naming the depth", async () => {
    const e = await errorOf(handle().deep.remote(100_000));
    expect(isTsserveError(e)).toBe(true);
    expect((e as { code?: string }).code).toBe("INTERNAL");
    expect((e as Error).message).toMatch(
      /deployment Echo: reply cannot be encoded: it is nested 1000\d\d levels deep/,
    );
    expect(await handle().pid.remote()).toBe(replicas.get("b1").child.pid);
  });
});
