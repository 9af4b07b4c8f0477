import type { NatsConnection } from "nats";
import { decode, heartbeatSubject, type ReplicaHeartbeat } from "@tsserve/protocol/internal";

/** What {@link waitForReplicaState} waits for. */
export interface WaitForReplicaStateOptions {
  /** Subject prefix. @default "tsserve" */
  prefix?: string;
  app: string;
  deployment: string;
  replicaId: string;
  /** The heartbeat state to wait for. */
  state: ReplicaHeartbeat["state"];
  /** @default 10000 */
  timeoutMs?: number;
}

/**
 * Subscribes to the replica's heartbeat subject and resolves with the first heartbeat in `state`.
 * Rejects with a clear error on timeout (naming the states seen), and at once when the replica
 * reports FAILED while another state is awaited (the error carries the replica's message).
 * Subscribe before starting the replica: READY is published once, then only periodically.
 */
export function waitForReplicaState(
  nc: NatsConnection,
  options: WaitForReplicaStateOptions,
): Promise<ReplicaHeartbeat> {
  const { prefix = "tsserve", app, deployment, replicaId, state, timeoutMs = 10_000 } = options;
  const subject = heartbeatSubject(prefix, app, deployment, replicaId);
  const seen: string[] = [];
  return new Promise((resolve, reject) => {
    const finish = (err: Error | null, hb?: ReplicaHeartbeat): void => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve(hb as ReplicaHeartbeat);
    };
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return finish(err);
        let hb: ReplicaHeartbeat;
        try {
          hb = decode(msg.data) as ReplicaHeartbeat;
        } catch (e) {
          return finish(new Error(`undecodable heartbeat on ${subject}`, { cause: e }));
        }
        if (seen.at(-1) !== hb.state) seen.push(hb.state);
        if (hb.state === state) return finish(null, hb);
        if (hb.state === "FAILED") {
          finish(
            new Error(
              `replica ${replicaId} reported FAILED while waiting for ${state}: ${hb.error ?? "(no error)"}`,
            ),
          );
        }
      },
    });
    const timer = setTimeout(() => {
      const states = seen.length > 0 ? seen.join(" → ") : "no heartbeat at all";
      finish(
        new Error(
          `replica ${replicaId} did not report ${state} on ${subject} within ${timeoutMs} ms (seen: ${states})`,
        ),
      );
    }, timeoutMs);
  });
}
