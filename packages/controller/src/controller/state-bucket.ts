import type { KV, NatsConnection } from "nats";
import { ConfigError } from "@tsserve/protocol";
import type { ResolvedControllerOptions } from "./controller-options.js";

/** Replicas of the state bucket when the NATS cluster does not say how many servers it has. */
const MAX_DEFAULT_KV_REPLICAS = 3;

/**
 * How many servers the NATS cluster has, as far as this connection can tell: the client URLs the
 * server advertises (one per server of its cluster), else 1.
 */
export function clusterSize(nc: NatsConnection): number {
  const urls = nc.info?.connect_urls;
  return Array.isArray(urls) && urls.length > 0 ? urls.length : 1;
}

/** `--kv-replicas`, or the cluster size up to 3. */
export function wantedKvReplicas(opts: ResolvedControllerOptions, nc: NatsConnection): number {
  return opts.kvReplicas > 0 ? opts.kvReplicas : Math.min(MAX_DEFAULT_KV_REPLICAS, clusterSize(nc));
}

/**
 * Opens (or creates) the JetStream KV bucket holding the checkpoint and the leader lease, with as
 * many replicas as wanted: with one replica the bucket lives on one server, and losing that machine
 * would leave no controller able to lead. A bucket created smaller (older version, cluster grown)
 * is raised to the wanted count.
 */
export async function openStateBucket(
  nc: NatsConnection,
  opts: ResolvedControllerOptions,
  log: (line: string) => void,
): Promise<KV> {
  const replicas = wantedKvReplicas(opts, nc);
  // Short request timeouts: while the bucket elects a new leader (its server died), a lease check
  // must fail fast and try again, not block the lease loop for nats.js's default 5 s.
  const timeout = Math.max(500, Math.min(2000, Math.floor(opts.leaseTtlMs / 2)));
  // Reads go to the stream leader, not "direct" to any replica: right after a leader change a
  // follower that is not current drops direct gets silently, and a new controller's first
  // checkpoint read would time out.
  const kv = await whileJetStreamStarts(
    () => nc.jetstream({ timeout }).views.kv(opts.bucket, { history: 1, replicas, allow_direct: false }),
    (e) => log(`state bucket ${opts.bucket}: JetStream not ready yet (${e.message}); retrying`),
  );
  try {
    const jsm = await nc.jetstreamManager({ timeout });
    const stream = `KV_${opts.bucket}`;
    const info = await jsm.streams.info(stream);
    if (info.config.num_replicas < replicas || info.config.allow_direct === true) {
      await jsm.streams.update(stream, {
        ...info.config,
        num_replicas: Math.max(replicas, info.config.num_replicas),
        allow_direct: false,
      });
      log(
        `state bucket ${opts.bucket}: ${Math.max(replicas, info.config.num_replicas)} replicas, reads from its leader`,
      );
    }
  } catch (e) {
    log(`state bucket ${opts.bucket}: could not check its replicas: ${(e as Error).message}`);
  }
  return kv;
}

/** How long a starting controller waits for JetStream to accept its bucket. */
const JETSTREAM_START_WAIT_MS = 60_000;

/**
 * Errors of a JetStream cluster still forming, from servers started together: no metadata leader
 * yet ("temporarily unavailable", timeouts) or fewer servers known to it than the bucket has
 * replicas ("no suitable peers").
 */
function jetStreamStarting(e: Error): boolean {
  return /no suitable peers|temporarily unavailable|timeout/i.test(
    `${(e as { code?: unknown }).code ?? ""} ${e.message}`,
  );
}

/** No server answers the JetStream API at all: it runs without JetStream (no `-js`). */
function jetStreamMissing(e: Error): boolean {
  return /^503$|no responders/i.test(String((e as { code?: unknown }).code ?? e.message));
}

/** Runs `attempt` until it succeeds, retrying errors of a forming JetStream cluster for up to a minute. */
async function whileJetStreamStarts<T>(attempt: () => Promise<T>, onRetry: (e: Error) => void): Promise<T> {
  const deadline = Date.now() + JETSTREAM_START_WAIT_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      const err = e as Error;
      if (jetStreamMissing(err)) {
        throw new ConfigError(
          "the NATS server has no JetStream: the controller keeps its state and leader lease in a " +
            "JetStream KV bucket; start nats-server with -js (or `jetstream {}` in its config)",
          { cause: err },
        );
      }
      if (!jetStreamStarting(err) || Date.now() > deadline) throw err;
      onRetry(err);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
