import { startNatsServer } from "@tsserve/test-utils";
import type { SuiteContext } from "./suite.js";

/** The NATS server a suite talks to: a local one it started, or the `--address` cluster. */
export interface BenchNats extends AsyncDisposable {
  readonly url: string;
  /** The local nats-server pid for CPU accounting; empty when the server is remote. */
  readonly pids: number[];
  /** True when the suite started the server (and so may measure its CPU). */
  readonly local: boolean;
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server on a free loopback port, or wraps `--address` without starting
 * anything. JetStream only when asked (the controller's KV needs it; the data plane does not, and
 * an idle JetStream still costs the server a little CPU).
 */
export async function benchNats(ctx: SuiteContext, opts: { jetstream?: boolean } = {}): Promise<BenchNats> {
  if (ctx.address !== null) {
    const url = ctx.address;
    const none = async (): Promise<void> => {};
    return { url, pids: [], local: false, stop: none, [Symbol.asyncDispose]: none };
  }
  const server = await startNatsServer({ jetstream: opts.jetstream ?? false });
  return {
    url: server.url,
    pids: [server.pid],
    local: true,
    stop: () => server.stop(),
    [Symbol.asyncDispose]: () => server.stop(),
  };
}
