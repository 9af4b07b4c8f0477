import type { DeploymentRecord, ReplicaRecord } from "./types.js";
import { depKey } from "./types.js";

/** How long a removed replica's late heartbeats are ignored rather than adopted. */
const TOMBSTONE_MS = 60_000;

/**
 * Every replica the controller knows, by id, plus tombstones of replicas it removed: a heartbeat
 * that was already in flight when a replica was stopped must not bring it back.
 */
export class ReplicaTable {
  private readonly byId = new Map<string, ReplicaRecord>();
  private readonly tombstones = new Map<string, number>();

  /** Number of tracked replicas. */
  get size(): number {
    return this.byId.size;
  }

  /** The replica with this id, if tracked. */
  get(replicaId: string): ReplicaRecord | undefined {
    return this.byId.get(replicaId);
  }

  /** Starts tracking a replica (and forgets an old tombstone of the same id). */
  add(record: ReplicaRecord): void {
    this.tombstones.delete(record.replicaId);
    this.byId.set(record.replicaId, record);
  }

  /** Stops tracking a replica and remembers that it is gone. Returns the removed record. */
  remove(replicaId: string, now = Date.now()): ReplicaRecord | undefined {
    const r = this.byId.get(replicaId);
    this.byId.delete(replicaId);
    this.tombstones.set(replicaId, now + TOMBSTONE_MS);
    return r;
  }

  /** Stops tracking a replica without a tombstone: a later heartbeat from it adopts it again. */
  forget(replicaId: string): void {
    this.byId.delete(replicaId);
  }

  /** Whether this id was removed recently (late heartbeats from it are ignored). */
  isTombstoned(replicaId: string, now = Date.now()): boolean {
    const until = this.tombstones.get(replicaId);
    if (until === undefined) return false;
    if (until < now) {
      this.tombstones.delete(replicaId);
      return false;
    }
    return true;
  }

  /** Every tracked replica. */
  all(): ReplicaRecord[] {
    return [...this.byId.values()];
  }

  /** The replicas of one deployment. */
  ofDeployment(app: string, deployment: string): ReplicaRecord[] {
    const key = depKey(app, deployment);
    return this.all().filter((r) => depKey(r.app, r.deployment) === key);
  }

  /** The replicas placed on one node. */
  onNode(nodeId: string): ReplicaRecord[] {
    return this.all().filter((r) => r.nodeId === nodeId);
  }

  /** Forgets everything (a controller that lost its lease starts over from the checkpoint). */
  clear(): void {
    this.byId.clear();
    this.tombstones.clear();
    this.unlisted.clear();
  }

  private readonly unlisted = new Map<string, number>();

  /**
   * Notes that a replica unknown to the table heartbeats while no live agent lists it; returns since
   * when (epoch ms) it has been in that state. {@link clearUnlisted} once it is adopted or fenced.
   */
  unlistedSince(replicaId: string, now: number): number {
    const since = this.unlisted.get(replicaId);
    if (since !== undefined) return since;
    this.unlisted.set(replicaId, now);
    return now;
  }

  clearUnlisted(replicaId: string): void {
    this.unlisted.delete(replicaId);
  }

  /** Drops expired tombstones so the map stays small. */
  sweepTombstones(now = Date.now()): void {
    for (const [id, until] of this.tombstones) if (until < now) this.tombstones.delete(id);
  }
}

/** A fresh, unique, stable replica id: `<deployment>-<random6>`. */
export function newReplicaId(deployment: string, taken: (id: string) => boolean): string {
  for (;;) {
    const id = `${deployment}-${Math.random().toString(36).slice(2, 8).padEnd(6, "0")}`;
    if (!taken(id)) return id;
  }
}

/** The record of a replica the controller is about to ask an agent for. */
export function startingRecord(
  d: DeploymentRecord,
  nodeId: string,
  replicaId: string,
  now: number,
  generation: number,
): ReplicaRecord {
  return {
    generation,
    replicaId,
    app: d.app,
    deployment: d.name,
    nodeId,
    versionKey: d.versionKey,
    codeVersion: d.spec.codeVersion,
    state: "STARTING",
    pid: 0,
    startedAt: now,
    ongoing: 0,
    lastHeard: now,
    createdAt: now,
    stopRequestedAt: 0,
    // A replacement for a lost replica inherits its slot's restart count (+1 counted on loss).
    restarts: d.lostSlots?.shift() ?? 0,
  };
}
