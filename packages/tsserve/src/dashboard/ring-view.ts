import { hashKeyBigInt } from "@tsserve/handle/internal";

/** One replica's place on a deployment's consistent-hash ring. */
export interface RingReplica {
  replicaId: string;
  /** Share of the 64-bit hash space it owns (0..1): sessions it would get with uniform ids. */
  share: number;
  /** Distinct sessions it served in the last 5 minutes (from its metrics). */
  sessions: number;
}

const SPACE = 2n ** 64n;

/**
 * The ring as ConsistentHashRouter builds it (points `${replicaId}:${i}`, owner = first point
 * strictly above the key's hash), summarised as each replica's share of the hash space.
 */
export function ringShares(
  replicaIds: readonly string[],
  numVirtualNodes: number,
  sessions: ReadonlyMap<string, number>,
): RingReplica[] {
  const points: { h: bigint; id: string }[] = [];
  for (const id of replicaIds)
    for (let i = 0; i < numVirtualNodes; i++) points.push({ h: hashKeyBigInt(`${id}:${i}`), id });
  points.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  const owned = new Map<string, bigint>(replicaIds.map((id) => [id, 0n]));
  for (let i = 0; i < points.length; i++) {
    // Keys in [previous point, this point) belong to this point; the first wraps around.
    const prev = i === 0 ? points[points.length - 1]!.h - SPACE : points[i - 1]!.h;
    owned.set(points[i]!.id, owned.get(points[i]!.id)! + (points[i]!.h - prev));
  }
  return replicaIds.map((id) => ({
    replicaId: id,
    share: points.length ? Number((owned.get(id)! * 1_000_000n) / SPACE) / 1_000_000 : 0,
    sessions: sessions.get(id) ?? 0,
  }));
}
