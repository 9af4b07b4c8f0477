import { connect, type NatsConnection } from "nats";
import type { StaticMembership } from "@tsserve/handle";
import {
  decode,
  decodeReplicaHeartbeat,
  DEFAULT_PREFIX,
  subjectPattern,
  VERBS,
} from "@tsserve/protocol/internal";
import type { ReplicaInfo } from "@tsserve/protocol";

/**
 * What the controller does with multiplexed replicas' heartbeats, for a bench without one: keep
 * each replica's reported models and, when a set changes, give every static membership the
 * replicas with their models (sorted, as the controller broadcasts them). Without the controller's
 * 25 ms coalescing, so reports arrive a little sooner than in a cluster.
 */
export async function followModelReports(
  address: string,
  app: string,
  deployment: string,
  replicas: readonly ReplicaInfo[],
  memberships: readonly StaticMembership[],
): Promise<{ updates: () => number; close: () => Promise<void> }> {
  const nc: NatsConnection = await connect({ servers: address, noAsyncTraces: true });
  const models = new Map<string, string>();
  let updates = 0;
  const publish = (): void => {
    const list = replicas.map((r) => ({
      ...r,
      models: (models.get(r.replicaId) ?? "").split("\n").filter((m) => m !== ""),
    }));
    for (const m of memberships) m.update(list);
    updates++;
  };
  nc.subscribe(subjectPattern(DEFAULT_PREFIX, VERBS.heartbeat, app, deployment, "*"), {
    callback: (err, msg) => {
      if (err !== null) return;
      let hb;
      try {
        hb = decodeReplicaHeartbeat(decode(msg.data));
      } catch {
        return; // not a heartbeat this bench sent
      }
      if (hb.models === undefined) return;
      const key = [...hb.models].sort().join("\n");
      if (models.get(hb.replicaId) === key) return;
      models.set(hb.replicaId, key);
      publish();
    },
  });
  await nc.flush();
  publish();
  return { updates: () => updates, close: () => nc.close() };
}
