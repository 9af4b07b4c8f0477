/**
 * One proxy process of `tsserve start --proxies N` (a `node:cluster` worker of the head): starts
 * the HTTP proxy (and gRPC ingress) with the options the head put in {@link PROXY_WORKER_ENV}.
 * Its `listen()` goes through the head, which holds the one listening socket and hands each new
 * connection to a worker in turn, so N workers serve one port. Talks to the head over IPC:
 * `ready` (or `failed`) once, metrics on request, and closes gracefully on `stop`.
 */
import { startProxy, type Proxy } from "@tsserve/proxy";
import {
  PROXY_WORKER_ENV,
  type PoolWorkerMessage,
  type PoolPrimaryMessage,
  type ProxyWorkerOptions,
} from "./proxy-pool-protocol.js";

const send = (m: PoolWorkerMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const options = JSON.parse(process.env[PROXY_WORKER_ENV] ?? "null") as ProxyWorkerOptions | null;
  if (options === null) throw new Error(`${PROXY_WORKER_ENV} is not set: this runs as a worker of the head`);
  let proxy: Proxy;
  try {
    proxy = await startProxy(options);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    send({ type: "failed", message: err.message, ...(err.code === undefined ? {} : { code: err.code }) });
    process.exit(1);
  }
  process.on("message", (m: PoolPrimaryMessage) => {
    if (m.type === "metrics") {
      void proxy.metrics.registry
        .getMetricsAsJSON()
        .then((metrics) => send({ type: "metrics", id: m.id, metrics }));
    } else if (m.type === "stop") {
      void proxy.close().finally(() => process.exit(0));
    }
  });
  send({ type: "ready", url: proxy.url, port: proxy.port, grpcPort: proxy.grpcPort });
}

main().catch((e: unknown) => {
  send({ type: "failed", message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
