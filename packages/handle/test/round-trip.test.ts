import { isMethodNotFoundError, isUserCodeError, UserCodeError } from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  connect,
  staticMembership,
  type Client,
  type DeploymentResponse,
  type DeploymentResponseStream,
} from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

describe("DeploymentHandle round trips (real nats-server and replica processes)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1", "r2"] });
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

  it("calls __call__ and returns its value", async () => {
    expect(await handle().remote({ a: 1 })).toEqual({ echo: { a: 1 } });
  });

  it("calls a named method with typed arguments", async () => {
    const h = handle();
    const text: string = await h.reply.remote("hi");
    expect(text).toBe("reply:hi");
    expect(await h.options({ method: "reply" }).remote("there")).toBe("reply:there");
  });

  it("types methods from the deployment class (checked by tsc)", async () => {
    const h = handle();
    expectTypeOf(h.reply.remote).parameters.toEqualTypeOf<[msg: string]>();
    expectTypeOf<Awaited<ReturnType<typeof h.reply.remote>>>().toEqualTypeOf<string>();
    expectTypeOf<Awaited<ReturnType<typeof h.remote>>>().toEqualTypeOf<{ echo: unknown }>();
    expectTypeOf<Awaited<ReturnType<typeof h.peakOngoing.remote>>>().toEqualTypeOf<number>();
    const streaming = h.options({ stream: true });
    expectTypeOf(streaming.count.remote(2)).not.toBeAny();
    expectTypeOf(streaming.count.remote(2)).toMatchTypeOf<DeploymentResponseStream<number>>();
    expectTypeOf(streaming.count.remote(2)).not.toMatchTypeOf<DeploymentResponseStream<string>>();
    expectTypeOf(h.options({ timeoutMs: 5 }).reply.remote("x")).toMatchTypeOf<DeploymentResponse<string>>();
    const asPromise: Promise<string> = h.reply.remote("p");
    expect(await asPromise).toBe("reply:p");
    // @ts-expect-error reply takes a string
    expect(await h.reply.remote(5).catch(() => "rejected")).toBe("reply:5");
  });

  it("streams the chunks of an async-generator method", async () => {
    const chunks: number[] = [];
    for await (const n of handle().options({ stream: true }).count.remote(5)) chunks.push(n);
    expect(chunks).toEqual([0, 1, 2, 3, 4]);
  });

  it("raises a user error as UserCodeError with its name and message", async () => {
    let error: unknown;
    try {
      await handle().fail.remote("bad input 42");
    } catch (e) {
      error = e;
    }
    expect(isUserCodeError(error)).toBe(true);
    expect(error).toBeInstanceOf(UserCodeError);
    expect((error as UserCodeError).remoteName).toBe("RangeError");
    expect((error as Error).message).toContain("bad input 42");
  });

  it("raises a clear MethodNotFoundError for an unknown method", async () => {
    let error: unknown;
    try {
      await handle().options({ method: "nope" }).remote("x");
    } catch (e) {
      error = e;
    }
    expect(isMethodNotFoundError(error)).toBe(true);
    expect((error as Error).message).toContain("nope");
  });

  it("fails a call over the server's max_payload with PayloadTooLargeError and keeps serving", async () => {
    let error: unknown;
    try {
      await handle().remote("x".repeat(1_100_000));
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect((error as Error).message).toMatch(/exceeds the NATS server's max_payload \(1048576 bytes\)/);
    expect(await handle().reply.remote("after")).toBe("reply:after");
  });

  it("spreads calls over both replicas and shares the router between options() handles", async () => {
    const h = handle();
    const pids = await Promise.all(
      Array.from({ length: 40 }, () => h.options({ timeoutMs: 5000 }).slow.remote(20)),
    );
    expect(new Set(pids).size).toBe(2);
  });
});
