import type { NatsConnection } from "nats";
import { UnavailableError } from "@tsserve/protocol";
import { sessionBucketName, type ApplicationSpec } from "@tsserve/protocol/internal";

/**
 * Creates (or opens) the JetStream KV bucket of every stateful deployment in a deploy request,
 * replicated like the controller's own state bucket (`--kv-replicas`), before the reconcile loop
 * starts its replicas: replicas run with the replica role's credentials, which may read and write
 * the bucket but not create streams. History 1: a record is only ever compared-and-set against
 * its latest revision. No `max_age`: a live owner rewrites a memory-mode record only on hand-off,
 * so a bucket-wide age would expire records their owners still hold; `ttlS` is the owner's sweep.
 */
export async function ensureSessionBuckets(
  nc: NatsConnection,
  prefix: string,
  replicas: number,
  apps: readonly ApplicationSpec[],
  log: (line: string) => void,
): Promise<void> {
  const js = nc.jetstream({ timeout: 5000 });
  for (const app of apps) {
    for (const d of app.deployments) {
      if ((d.config.sessionState ?? null) === null) continue;
      const bucket = sessionBucketName(prefix, app.name, d.config.name);
      try {
        await js.views.kv(bucket, { history: 1, replicas, allow_direct: false });
      } catch (e) {
        throw new UnavailableError(
          `session state bucket ${bucket} of ${app.name}/${d.config.name} could not be created: ${(e as Error).message}`,
          { cause: e },
        );
      }
      log(`session state bucket ${bucket} ready (${replicas} replica${replicas === 1 ? "" : "s"})`);
    }
  }
}
