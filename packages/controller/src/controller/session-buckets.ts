import { nanos, type JetStreamManager, type NatsConnection } from "nats";
import { UnavailableError } from "@tsserve/protocol";
import {
  sessionBucketName,
  type ApplicationSpec,
  type ResolvedDeploymentConfig,
} from "@tsserve/protocol/internal";
import type { ResolvedControllerOptions } from "./controller-options.js";
import { wantedKvReplicas } from "./state-bucket.js";

/** What the deploy handler hands over: the controller's connection (undefined before start), options, log. */
export interface SessionBucketHost {
  readonly natsConnection: NatsConnection | undefined;
  readonly opts: ResolvedControllerOptions;
  log(line: string): void;
}

/** JetStream's default duplicate window; it may not exceed a stream's `max_age`. */
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

/**
 * The bucket's `max_age` for one deployment: `ttlS` in `durable` mode, none otherwise. A durable
 * owner rewrites its session's record on every call that changed the state (and at acquisition
 * and release), and each write starts the record's age again, so `max_age` = `ttlS` expires a
 * session no call wrote for that long, including one whose owner crashed (the owner's own sweep
 * cannot). A memory-mode record is written only when the session moves, so an age would expire
 * the records of sessions live owners hold: no `max_age` there, the owner's sweep alone.
 */
export function sessionBucketMaxAgeMs(config: ResolvedDeploymentConfig): number {
  const s = config.sessionState ?? null;
  return s !== null && s.mode === "durable" ? s.ttlMs : 0;
}

/**
 * Creates (or opens) the JetStream KV bucket of every stateful deployment in a deploy request,
 * replicated like the controller's own state bucket (`--kv-replicas`), before the reconcile loop
 * starts its replicas: replicas run with the replica role's credentials, which may read and write
 * the bucket but not create streams. History 1: a record is only ever compared-and-set against
 * its latest revision. Its `max_age` follows {@link sessionBucketMaxAgeMs} on every deploy: a
 * changed `ttlS` (or mode) updates the existing bucket, applying to every record at once,
 * old ones included (JetStream ages messages from their write, whatever the limit was then).
 */
export async function ensureSessionBuckets(
  host: SessionBucketHost,
  apps: readonly ApplicationSpec[],
): Promise<void> {
  const nc = host.natsConnection;
  if (nc === undefined) return;
  const replicas = wantedKvReplicas(host.opts, nc);
  const js = nc.jetstream({ timeout: 5000 });
  let jsm: JetStreamManager | undefined;
  for (const app of apps) {
    for (const d of app.deployments) {
      if ((d.config.sessionState ?? null) === null) continue;
      const bucket = sessionBucketName(host.opts.prefix, app.name, d.config.name);
      const maxAgeMs = sessionBucketMaxAgeMs(d.config);
      try {
        await js.views.kv(bucket, { history: 1, replicas, allow_direct: false, ttl: maxAgeMs });
        jsm ??= await nc.jetstreamManager({ timeout: 5000 });
        const changed = await applyMaxAge(jsm, `KV_${bucket}`, maxAgeMs);
        if (changed) host.log(`session state bucket ${bucket}: max_age now ${describeAge(maxAgeMs)}`);
      } catch (e) {
        throw new UnavailableError(
          `session state bucket ${bucket} of ${app.name}/${d.config.name} could not be created: ${(e as Error).message}`,
          { cause: e },
        );
      }
      host.log(
        `session state bucket ${bucket} ready (${replicas} replica${replicas === 1 ? "" : "s"}, max_age ${describeAge(maxAgeMs)})`,
      );
    }
  }
}

/** Sets the stream's `max_age` (ms, 0 = none) if it differs; true when it did. */
async function applyMaxAge(jsm: JetStreamManager, stream: string, maxAgeMs: number): Promise<boolean> {
  const info = await jsm.streams.info(stream);
  const want = nanos(maxAgeMs);
  if (info.config.max_age === want) return false;
  const window = nanos(
    maxAgeMs > 0 ? Math.min(maxAgeMs, DEFAULT_DUPLICATE_WINDOW_MS) : DEFAULT_DUPLICATE_WINDOW_MS,
  );
  await jsm.streams.update(stream, { max_age: want, duplicate_window: window });
  return true;
}

function describeAge(ms: number): string {
  return ms > 0 ? `${ms / 1000} s` : "none";
}
