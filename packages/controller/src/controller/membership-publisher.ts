import type { MembershipSnapshot, RoutingConfig } from "@tsserve/protocol/internal";
import type { ReplicaInfo } from "@tsserve/protocol";
import { stableStringify } from "./desired-state.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";
import { depKey } from "./types.js";

interface Published {
  version: number;
  signature: string;
  snapshot: MembershipSnapshot;
}

/** The routing part of a deployment's config that handles need with every snapshot. */
export function routingConfigOf(d: DeploymentRecord): RoutingConfig {
  const c = d.spec.config;
  return {
    maxOngoingRequests: c.maxOngoingRequests,
    maxQueuedRequests: c.maxQueuedRequests,
    requestRouter: c.requestRouter,
    idempotent: c.idempotent,
    maxRetries: c.maxRetries,
    ...(c.multiplexed === undefined ? {} : { maxModelsPerReplica: c.multiplexed.maxModelsPerReplica }),
  };
}

/**
 * A RUNNING replica as handles see it. Only multiplexed deployments carry `models` (sorted: the
 * set is what routes, and a canonical order keeps an LRU reorder from publishing a new snapshot),
 * so other deployments' broadcasts stay as small as before.
 */
function replicaInfoOf(r: ReplicaRecord, multiplexed: boolean): ReplicaInfo {
  const info: ReplicaInfo = { replicaId: r.replicaId, nodeId: r.nodeId };
  if (multiplexed) info.models = [...(r.models ?? [])].sort();
  return info;
}

/**
 * Keeps each deployment's RUNNING set and publishes a new {@link MembershipSnapshot} the moment it
 * changes. Versions only grow, across controller restarts too: a new version is
 * max(last + 1, Date.now()), and the last versions are checkpointed and reloaded.
 */
export class MembershipPublisher {
  private readonly current = new Map<string, Published>();
  /** Last versions known from a checkpoint, for deployments not yet published by this controller. */
  private readonly floor = new Map<string, number>();
  /** False during recovery: handles must never see a partial replica set. */
  enabled = false;

  constructor(private readonly send: (snapshot: MembershipSnapshot) => void) {}

  /**
   * Recomputes a deployment's RUNNING set; publishes when it (or the routing config) changed.
   * Returns true when a snapshot was published.
   */
  sync(d: DeploymentRecord, replicas: readonly ReplicaRecord[]): boolean {
    const running: ReplicaInfo[] = replicas
      .filter((r) => r.state === "RUNNING")
      .map((r) => replicaInfoOf(r, d.spec.config.multiplexed !== undefined))
      .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
    // A deployment being deleted is announced as retired at once, so handles fail its waiting
    // calls instead of waiting for replicas that will never come (its draining ones finish theirs).
    return this.put(d.app, d.name, d.deleting ? [] : running, routingConfigOf(d), d.deleting);
  }

  /** Publishes an empty set for a deployment that was deleted, then forgets it. */
  retire(d: DeploymentRecord): void {
    this.put(d.app, d.name, [], routingConfigOf(d), true);
    const key = depKey(d.app, d.name);
    const last = this.current.get(key);
    if (last) this.floor.set(key, last.version);
    this.current.delete(key);
  }

  private put(
    app: string,
    deployment: string,
    replicas: ReplicaInfo[],
    config: RoutingConfig,
    retired: boolean,
  ): boolean {
    if (!this.enabled) return false;
    const key = depKey(app, deployment);
    const signature = stableStringify({ replicas, config, retired });
    const last = this.current.get(key);
    if (last && last.signature === signature) return false;
    const previous = last?.version ?? this.floor.get(key) ?? 0;
    const version = Math.max(previous + 1, Date.now());
    const snapshot: MembershipSnapshot = retired
      ? { app, deployment, version, replicas, config, retired }
      : { app, deployment, version, replicas, config };
    this.current.set(key, { version, signature, snapshot });
    this.send(snapshot);
    return true;
  }

  /** The last published snapshot of a deployment (for `ctl.members`). */
  snapshot(app: string, deployment: string): MembershipSnapshot | undefined {
    return this.current.get(depKey(app, deployment))?.snapshot;
  }

  /** Re-sends every current snapshot with its version unchanged: heals lost messages. */
  republishAll(): void {
    if (!this.enabled) return;
    for (const p of this.current.values()) this.send(p.snapshot);
  }

  /** Versions to checkpoint: `[depKey, version]`. */
  versions(): [string, number][] {
    const out = new Map(this.floor);
    for (const [k, p] of this.current) out.set(k, p.version);
    return [...out];
  }

  /** Loads checkpointed versions as floors for the next snapshots. */
  restore(versions: [string, number][]): void {
    for (const [k, v] of versions) this.floor.set(k, Math.max(v, this.floor.get(k) ?? 0));
  }

  /** Forgets published sets (kept as floors) and disables publishing (lost leadership). */
  reset(): void {
    for (const [k, p] of this.current) this.floor.set(k, p.version);
    this.current.clear();
    this.enabled = false;
  }
}
