import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { DEFAULT_MAX_PINGS_OUT, DEFAULT_PING_INTERVAL_MS } from "@tsserve/protocol/internal";
import { startNatsServer } from "@tsserve/test-utils";
import { describe, expect, it } from "vitest";
import { connect } from "../src/index.js";

/**
 * A loopback TCP relay to NATS that can be frozen: sockets stay open but nothing crosses, as when a
 * network is cut without a FIN or RST reaching either side.
 */
async function frozenRelay(target: number): Promise<{ url: string; freeze(): void; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target, "127.0.0.1");
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    freeze() {
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("connect() uses connectNats's ping settings", () => {
  it("notices a cut network within about pingInterval × maxPingsOut, not nats.js's 4 minutes", async () => {
    await using nats = await startNatsServer({ jetstream: false });
    const relay = await frozenRelay(Number(new URL(nats.url).port));
    const client = await connect({ address: relay.url, prefix: "pings" });
    try {
      const noticed = (async () => {
        for await (const s of client.nc.status()) {
          if (s.type === "staleConnection" || s.type === "disconnect") return Date.now();
        }
        return Number.NaN;
      })();
      await client.nc.flush();
      const cutAt = Date.now();
      relay.freeze();
      const budget = DEFAULT_PING_INTERVAL_MS * (DEFAULT_MAX_PINGS_OUT + 2);
      const at = await Promise.race([
        noticed,
        new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), budget + 5000).unref()),
      ]);
      expect(at - cutAt, "the client never noticed the cut").toBeLessThanOrEqual(budget);
    } finally {
      await client.close();
      await relay.close();
    }
  }, 30_000);
});
