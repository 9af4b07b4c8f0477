/**
 * The one way tests get NATS: a real nats-server (see {@link startNatsServer}) plus a client
 * connection to it, disposed together — connections first, then the server:
 *
 * ```ts
 * await using nats = await startNats({ jetstream: false });
 * nats.nc.publish(...);
 * ```
 *
 * Suite-scoped fixtures (`beforeAll`) call `stop()` in `afterAll` instead.
 */
import { connect, type ConnectionOptions, type NatsConnection } from "nats";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "./nats-server.js";

/** A running nats-server and a connection to it. */
export interface NatsFixture extends AsyncDisposable {
  readonly server: NatsServer;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** A connection opened with the server (`noAsyncTraces`: fast publishes). */
  readonly nc: NatsConnection;
  /** Opens one more connection to the server; closed with the fixture. */
  connect(options?: ConnectionOptions): Promise<NatsConnection>;
  /** Closes every connection the fixture opened, then stops the server. Idempotent. */
  stop(): Promise<void>;
}

/** Starts nats-server (JetStream on unless `jetstream: false`) and connects to it. */
export async function startNats(options: NatsServerOptions = {}): Promise<NatsFixture> {
  const server = await startNatsServer(options);
  const connections: NatsConnection[] = [];
  const open = async (o: ConnectionOptions = {}): Promise<NatsConnection> => {
    const nc = await connect({ servers: server.url, noAsyncTraces: true, ...o });
    connections.push(nc);
    return nc;
  };
  let nc: NatsConnection;
  try {
    nc = await open();
  } catch (e) {
    await server.stop();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(connections.map((c) => (c.isClosed() ? undefined : c.close())));
      await server.stop();
    })();
    return stopped;
  };
  return { server, url: server.url, nc, connect: open, stop, [Symbol.asyncDispose]: stop };
}
