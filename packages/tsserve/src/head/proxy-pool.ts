import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { AggregatorRegistry, Registry } from "prom-client";
import {
  PROXY_WORKER_ENV,
  type PoolPrimaryMessage,
  type PoolWorkerMessage,
  type ProxyWorkerOptions,
} from "./proxy-pool-protocol.js";

/** How long a proxy worker may take to import, connect and listen. */
const READY_TIMEOUT_MS = 30_000;
/** How long `close()` waits for a worker's graceful close before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** A worker that dies within this long of its start is not replaced (it would crash-loop). */
const MIN_UPTIME_MS = 5_000;

/** N proxy processes serving one port (`tsserve start --proxies N`). */
export interface ProxyPool {
  readonly url: string;
  readonly port: number;
  readonly grpcPort: number | null;
  /** The live workers' pids. */
  readonly pids: readonly number[];
  /** Every worker's proxy series, summed, on demand (for the head's dashboard and /metrics). */
  readonly registry: Registry;
  /** Closes every worker gracefully (SIGKILL after 10 s) and stops replacing them. Idempotent. */
  close(): Promise<void>;
}

/** The built worker entry; from the TypeScript sources (tests) the built tree is ../../dist/. */
function workerEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(
    new URL(here.endsWith(".ts") ? "../../dist/head/proxy-worker.js" : "./proxy-worker.js", here),
  );
}

/** An error carrying a failed worker's message and errno code (EADDRINUSE…). */
function workerError(m: { message: string; code?: string }): Error {
  const e = new Error(`proxy worker: ${m.message}`) as NodeJS.ErrnoException;
  if (m.code !== undefined) e.code = m.code;
  return e;
}

/** Forks one worker and resolves with its ready message, or rejects with why it failed. */
function forkReady(
  options: ProxyWorkerOptions,
): Promise<{ worker: Worker; ready: PoolWorkerMessage & { type: "ready" } }> {
  cluster.setupPrimary({ exec: workerEntry(), args: [], silent: false });
  const worker = cluster.fork({ [PROXY_WORKER_ENV]: JSON.stringify(options) });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.process.kill("SIGKILL");
      reject(new Error(`proxy worker not listening within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const onMessage = (m: PoolWorkerMessage): void => {
      if (m.type === "metrics") return;
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
      if (m.type === "ready") resolve({ worker, ready: m });
      else reject(workerError(m));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`proxy worker exited with ${signal ?? `code ${code}`} before it listened`));
    };
    worker.on("message", onMessage);
    worker.once("exit", onExit);
  });
}

/** Waits for `worker` to exit after `stop`, SIGKILLing it after {@link STOP_TIMEOUT_MS}. */
function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill("SIGKILL"), STOP_TIMEOUT_MS);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (worker.isConnected()) worker.send({ type: "stop" } satisfies PoolPrimaryMessage);
    else worker.process.kill("SIGTERM");
  });
}

/**
 * Starts `count` proxy processes as `node:cluster` workers of this process. The listening socket
 * is this process's: it accepts each connection and hands it to the workers in turn (Node's
 * round-robin scheduling), so one port is served by `count` cores; a keep-alive connection stays
 * with one worker. A worker that dies later is replaced. Rejects (after stopping the started ones)
 * when a worker cannot listen; the error keeps its code (EADDRINUSE).
 */
export async function startProxyPool(options: ProxyWorkerOptions, count: number): Promise<ProxyPool> {
  const workers = new Set<Worker>();
  let closing = false;
  const settled = await Promise.allSettled(Array.from({ length: count }, () => forkReady(options)));
  for (const s of settled) if (s.status === "fulfilled") workers.add(s.value.worker);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) {
    await Promise.all([...workers].map(stopWorker));
    throw failed.reason;
  }
  const first = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof forkReady>>>).value.ready;
  // A replacement asks for the same port as the first workers did (0 included): the head keys its
  // listening sockets by what was asked, so it joins the socket they share.
  const watch = (worker: Worker, startedAt: number): void => {
    worker.once("exit", () => {
      workers.delete(worker);
      if (closing || Date.now() - startedAt < MIN_UPTIME_MS) return;
      forkReady(options).then(
        ({ worker: w }) => {
          if (closing) return void stopWorker(w);
          workers.add(w);
          watch(w, Date.now());
        },
        () => undefined, // Could not restart (port gone?): the other workers keep serving.
      );
    });
  };
  for (const w of workers) watch(w, Date.now());
  let seq = 0;
  const ask = (w: Worker): Promise<object[]> =>
    new Promise((resolve) => {
      const id = ++seq;
      const timer = setTimeout(() => done([]), 1000);
      const onMessage = (m: PoolWorkerMessage): void => {
        if (m.type === "metrics" && m.id === id) done(m.metrics);
      };
      const done = (metrics: object[]): void => {
        clearTimeout(timer);
        w.off("message", onMessage);
        resolve(metrics);
      };
      w.on("message", onMessage);
      if (w.isConnected()) w.send({ type: "metrics", id } satisfies PoolPrimaryMessage);
      else done([]);
    });
  const registry = new (class extends Registry {
    override async getMetricsAsJSON() {
      const per = await Promise.all([...workers].map(ask));
      return AggregatorRegistry.aggregate(per).getMetricsAsJSON();
    }
  })();
  let closed: Promise<void> | undefined;
  return {
    url: first.url,
    port: first.port,
    grpcPort: first.grpcPort,
    get pids() {
      return [...workers].map((w) => w.process.pid ?? -1);
    },
    registry,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        await Promise.all([...workers].map(stopWorker));
      })()),
  };
}
