import type { ReplicaRecord } from "./types.js";

/**
 * Picks the node for a new replica: among live agents, the one with the fewest replicas of this
 * deployment (spreading a deployment over machines survives a machine loss), then the fewest
 * replicas overall (least loaded), then by node id so the choice is deterministic.
 * Returns undefined when no agent is alive.
 */
export function chooseNode(
  liveNodes: readonly string[],
  replicas: readonly ReplicaRecord[],
  app: string,
  deployment: string,
): string | undefined {
  let best: { nodeId: string; same: number; total: number } | undefined;
  for (const nodeId of liveNodes) {
    let same = 0;
    let total = 0;
    for (const r of replicas) {
      if (r.nodeId !== nodeId) continue;
      total++;
      if (r.app === app && r.deployment === deployment) same++;
    }
    const better =
      !best ||
      same < best.same ||
      (same === best.same && total < best.total) ||
      (same === best.same && total === best.total && nodeId < best.nodeId);
    if (better) best = { nodeId, same, total };
  }
  return best?.nodeId;
}

/**
 * Orders replicas for scale-down: the ones whose loss costs least first: STARTING before RUNNING
 * (they serve nothing yet), suspect ones (late heartbeat, agent not live) before healthy ones, then
 * those on the node holding the most replicas of the deployment, then the youngest. A healthy
 * replica is never preferred over a suspect one. Returns a new array.
 */
export function drainOrder(
  candidates: readonly ReplicaRecord[],
  isSuspect: (r: ReplicaRecord) => boolean = () => false,
): ReplicaRecord[] {
  const perNode = new Map<string, number>();
  for (const r of candidates) perNode.set(r.nodeId, (perNode.get(r.nodeId) ?? 0) + 1);
  const rank = (r: ReplicaRecord): number => (r.state === "STARTING" ? 0 : isSuspect(r) ? 1 : 2);
  return [...candidates].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (perNode.get(b.nodeId) ?? 0) - (perNode.get(a.nodeId) ?? 0) ||
      b.createdAt - a.createdAt ||
      (a.replicaId < b.replicaId ? -1 : 1),
  );
}
