import { WriteCoalescer } from "@tsserve/protocol/internal";
import { startNats } from "@tsserve/test-utils";
import type { NatsConnection } from "nats";
import { describe, expect, it } from "vitest";

/** Counts the writes the connection's socket hands to the kernel (one per write/writev call). */
function countWrites(nc: NatsConnection): () => number {
  const socket = (nc as unknown as { protocol: { transport: { socket: Record<string, unknown> } } }).protocol
    .transport.socket;
  let writes = 0;
  for (const name of ["_write", "_writev"]) {
    const original = socket[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== "function") continue;
    socket[name] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  return () => writes;
}

/** Publishes `n` messages, each from its own setImmediate callback of one event-loop turn. */
function publishInOneTurn(
  nc: NatsConnection,
  subject: string,
  n: number,
  before?: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    for (let i = 0; i < n; i++) {
      setImmediate(() => {
        before?.();
        nc.publish(subject, new Uint8Array([i]));
        if (--left === 0) setImmediate(resolve);
      });
    }
  });
}

describe("WriteCoalescer (real nats-server)", () => {
  it("sends the publishes of one event-loop turn in one write, and delivers every message", async () => {
    await using nats = await startNats({ jetstream: false });
    const pub = nats.nc;
    const sub = await nats.connect();
    const received: number[] = [];
    sub.subscribe("coalesce.>", { callback: (_e, m) => received.push(m.data[0]!) });
    await sub.flush();
    const writes = countWrites(pub);

    const before = writes();
    await publishInOneTurn(pub, "coalesce.plain", 20);
    const plain = writes() - before;

    const coalescer = new WriteCoalescer(pub);
    const start = writes();
    await publishInOneTurn(pub, "coalesce.corked", 20, () => coalescer.beforePublish());
    const corked = writes() - start;

    await pub.flush();
    await sub.flush();
    // nats.js alone flushes after each callback: one write per message.
    expect(plain).toBe(20);
    expect(corked).toBe(1);
    expect(received).toHaveLength(40);
    expect(received.slice(20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("with soon, sends a callback's publishes in one write before the turn's next callback runs", async () => {
    await using nats = await startNats({ jetstream: false });
    const pub = nats.nc;
    const writes = countWrites(pub);
    /** Publishes 5 from one callback; returns the writes the turn's next callback has seen. */
    const seenByNextCallback = (soon: boolean): Promise<number> => {
      const coalescer = new WriteCoalescer(pub);
      const start = writes();
      return new Promise((resolve) => {
        setImmediate(() => {
          for (let i = 0; i < 5; i++) {
            coalescer.beforePublish(soon);
            pub.publish("coalesce.soon", new Uint8Array([i]));
          }
        });
        setImmediate(() => {
          const seen = writes() - start;
          // By the next turn everything was written, in one write either way.
          setImmediate(() => setImmediate(() => resolve(writes() - start === 1 ? seen : -1)));
        });
      });
    };
    // The handle's dispatches on a reply: the next calls go to the replica ahead of the turn's
    // other callbacks (64 HTTP connections' worth in the proxy), not after them.
    expect(await seenByNextCallback(true)).toBe(1);
    expect(await seenByNextCallback(false)).toBe(0);
  });

  it("with soon and nothing corked, leaves the socket alone (nats.js writes the callback's publishes at once)", async () => {
    await using nats = await startNats({ jetstream: false });
    const pub = nats.nc;
    const socket = (pub as unknown as { protocol: { transport: { socket: { writableCorked: number } } } })
      .protocol.transport.socket;
    const coalescer = new WriteCoalescer(pub);
    coalescer.beforePublish(true);
    expect(socket.writableCorked).toBe(0);
    // A plain publish corks until the turn's end; a soon one after it releases the cork sooner.
    coalescer.beforePublish();
    expect(socket.writableCorked).toBe(1);
    coalescer.beforePublish(true);
    pub.publish("coalesce.soon", new Uint8Array([1]));
    await Promise.resolve();
    await Promise.resolve();
    expect(socket.writableCorked).toBe(0);
  });

  it("does nothing on a connection without a Node socket", () => {
    const fake = { publish: () => undefined } as unknown as NatsConnection;
    expect(() => new WriteCoalescer(fake).beforePublish()).not.toThrow();
  });
});
