import { type NatsConnection } from "nats";
import {
  decodeRequest,
  encodeReply,
  encodeStreamFlow,
  probeSubject,
  ReplyKind,
  requestSubject,
  type StreamFlow,
} from "@tsserve/protocol/internal";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import { errorOf } from "./helpers/error-of.js";

/**
 * A fake replica on raw NATS that announces a window of 4 chunks and then sends `chunks` chunks
 * without waiting for credit: the handle must refuse to buffer past the window.
 */
describe("handle stream buffer bound (fake replica that ignores its window)", () => {
  let nats: NatsFixture;
  let replicaNc: NatsConnection;
  let client: Client;
  const credits: Uint8Array[] = [];

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicaNc = nats.nc;
    const flow: StreamFlow = {
      creditSubject: "tsserve.credit.app.Fake.f1.0",
      windowChunks: 4,
      windowBytes: 1 << 20,
      creditTimeoutMs: 30_000,
    };
    replicaNc.subscribe(flow.creditSubject, { callback: (_e, m) => credits.push(m.data) });
    replicaNc.subscribe(requestSubject("tsserve", "app", "Fake", "f1"), {
      callback: (_e, m) => {
        const req = decodeRequest(m.data);
        const n = req.args[0] as number;
        m.respond(encodeReply(ReplyKind.STREAM_START, 1, encodeStreamFlow(flow)));
        for (let i = 0; i < n; i++) m.respond(encodeReply(ReplyKind.CHUNK, 1, i));
        m.respond(encodeReply(ReplyKind.STREAM_END, 0));
      },
    });
    // The routing loop probes a replica whose queue length it does not know yet.
    replicaNc.subscribe(probeSubject("tsserve", "app", "Fake", "f1"), {
      callback: (_e, m) => m.respond(encodeReply(ReplyKind.QUEUE_LEN, 0)),
    });
    await replicaNc.flush();
    client = await connect({ address: nats.url });
  });
  afterAll(async () => {
    await client?.close();
    await nats?.stop();
  });

  const stream = (n: number) =>
    client
      .getDeploymentHandle("Fake", {
        app: "app",
        membership: staticMembership({ replicas: [{ replicaId: "f1", nodeId: "n" }] }),
      })
      .options({ stream: true })
      .remote(n);

  it("reads a stream that stays inside its window", async () => {
    expect(await stream(4).collect()).toEqual([0, 1, 2, 3]);
  });

  it("fails a stream whose replica sends beyond its window, and cancels it at the replica", async () => {
    const s = stream(50);
    // Read nothing until every chunk has arrived: the buffer would hold 50.
    await new Promise((r) => setTimeout(r, 300));
    // Refused (and emptied) as soon as it passed the window, not after holding all 50.
    expect(s.buffered).toBe(0);
    const e = await errorOf(s.collect());
    expect((e as { code?: string }).code).toBe("BAD_REQUEST");
    expect((e as Error).message).toMatch(/more than its stream window of 4 chunks/);
    // The handle told the replica to stop (CANCEL = [1]).
    expect(credits.some((c) => c.length === 2 && c[0] === 0x91 && c[1] === 1)).toBe(true);
  });
});
