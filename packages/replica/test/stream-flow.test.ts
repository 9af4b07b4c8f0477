import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decode,
  heartbeatSubject,
  ReplyKind,
  type Reply,
  type ReplicaHeartbeat,
  type WireError,
} from "@tsserve/protocol/internal";
import {
  sleep,
  startNats,
  waitUntil,
  type NatsFixture,
  startReplica,
  type ReplicaFixture,
  STREAM_APP,
} from "@tsserve/test-utils";
import { call, makeSpec, openStream } from "./helpers.js";

const WINDOW_CHUNKS = 16;
const WINDOW_BYTES = 1024 * 1024;
const CREDIT_TIMEOUT_MS = 800;

const chunks = (replies: Reply[]): number => replies.filter((r) => r.kind === ReplyKind.CHUNK).length;

describe("replica stream flow control (raw NATS consumer)", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let replica: ReplicaFixture;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    const spec = makeSpec(nats.url, STREAM_APP.importPath, STREAM_APP.deployment, { maxOngoingRequests: 8 });
    spec.cwd = STREAM_APP.cwd;
    spec.streamFlow = {
      windowChunks: WINDOW_CHUNKS,
      windowBytes: WINDOW_BYTES,
      creditTimeoutMs: CREDIT_TIMEOUT_MS,
    };
    replica = await startReplica(spec, { nc });
  });
  afterAll(async () => {
    await replica?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  const statsValue = async (): Promise<{ produced: number; closed: number }> =>
    (
      (await call(nc, replica.requestSubject, "stats")) as unknown as {
        value: { produced: number; closed: number };
      }
    ).value;
  const ongoing = async (): Promise<number> => (await call(nc, replica.requestSubject, "ping")).queueLen;

  it("announces a credit subject and window, stops at the window, resumes on credit, stops the generator on CANCEL", async () => {
    const closedBefore = (await statsValue()).closed;
    const s = openStream(nc, replica.requestSubject, "fast", [100_000, 10]);
    await waitUntil(() => chunks(s.replies) >= WINDOW_CHUNKS, { message: "a window of chunks" });
    expect(s.flow()).toMatchObject({
      windowChunks: WINDOW_CHUNKS,
      windowBytes: WINDOW_BYTES,
      creditTimeoutMs: CREDIT_TIMEOUT_MS,
    });
    expect(s.flow()?.creditSubject).toMatch(/^tst\.credit\.testapp\.Streamer\.r\d+-\d+\.[0-9a-z]+$/);
    await sleep(300);
    // Not one chunk beyond the window without credit (the generator is parked at its yield).
    expect(chunks(s.replies)).toBe(WINDOW_CHUNKS);
    expect((await statsValue()).produced).toBeLessThanOrEqual(WINDOW_CHUNKS + 1);

    s.grant();
    await waitUntil(() => chunks(s.replies) >= 2 * WINDOW_CHUNKS, { message: "a second window" });
    await sleep(300);
    expect(chunks(s.replies)).toBe(2 * WINDOW_CHUNKS);

    s.cancel();
    await waitUntil(async () => (await statsValue()).closed === closedBefore + 1, {
      message: "generator closed by CANCEL",
    });
    expect(await ongoing()).toBe(0);
    // A cancelled stream ends quietly: nobody is listening.
    expect(s.replies.at(-1)?.kind).toBe(ReplyKind.CHUNK);
    s.close();
  });

  it("bounds the window in bytes as well as in chunks", async () => {
    const size = 200_000;
    const s = openStream(nc, replica.requestSubject, "fast", [1000, size]);
    await waitUntil(() => chunks(s.replies) >= 1, { message: "first chunk" });
    await sleep(400);
    // Five chunks stay under 1 MiB, the sixth crosses it; then the stream waits.
    expect(chunks(s.replies)).toBe(Math.ceil(WINDOW_BYTES / size));
    s.cancel();
    await waitUntil(async () => (await ongoing()) === 0, { message: "stream ended" });
    s.close();
  });

  it("ends a stream whose consumer goes silent with TIMEOUT after the credit timeout, freeing the slot", async () => {
    const closedBefore = (await statsValue()).closed;
    const started = Date.now();
    const s = openStream(nc, replica.requestSubject, "fast", [100_000, 10]);
    const last = await waitUntil(
      () => {
        const r = s.replies.at(-1);
        return r?.kind === ReplyKind.ERROR ? r : undefined;
      },
      { timeoutMs: 10_000, message: "stream ended by the credit timeout" },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(CREDIT_TIMEOUT_MS - 50);
    const err = (last as { error: WireError }).error;
    expect(err.code).toBe("TIMEOUT");
    expect(err.message).toMatch(/no credit from its consumer for 800 ms/);
    expect((await statsValue()).closed).toBe(closedBefore + 1);
    expect(await ongoing()).toBe(0);
    expect(replica.stderr()).toMatch(/no credit from its consumer/);
    s.close();
  });

  it("finishes a cancelled stream once even when the generator's finally throws", async () => {
    const s = openStream(nc, replica.requestSubject, "throwsOnClose");
    await waitUntil(() => chunks(s.replies) >= WINDOW_CHUNKS, { message: "a window of chunks" });
    expect(await ongoing()).toBe(1);
    s.cancel();
    await waitUntil(async () => (await ongoing()) === 0, { message: "stream ended" });
    await sleep(100);
    // Not -1: one finish per call.
    expect(await ongoing()).toBe(0);
    s.close();
  });

  it("counts a malformed credit message and keeps the stream alive", async () => {
    const beats: ReplicaHeartbeat[] = [];
    const hb = nc.subscribe(heartbeatSubject("tst", "testapp", "Streamer", replica.spec.replicaId), {
      callback: (_e, m) => beats.push(decode(m.data) as ReplicaHeartbeat),
    });
    const s = openStream(nc, replica.requestSubject, "fast", [3 * WINDOW_CHUNKS, 10]);
    await waitUntil(() => chunks(s.replies) >= WINDOW_CHUNKS, { message: "a window of chunks" });
    nc.publish(s.flow()!.creditSubject, new Uint8Array([0xc1, 0x00]));
    await waitUntil(() => (beats.at(-1)?.rejectedMessages ?? 0) >= 1, { message: "rejected count" });
    s.grant();
    await waitUntil(() => chunks(s.replies) >= 2 * WINDOW_CHUNKS, { message: "stream continues" });
    s.grant();
    await waitUntil(() => s.replies.at(-1)?.kind === ReplyKind.STREAM_END, { message: "stream end" });
    expect(chunks(s.replies)).toBe(3 * WINDOW_CHUNKS);
    hb.unsubscribe();
    s.close();
  });
});
