import type { KV } from "nats";
import type { DesiredState } from "./desired-state.js";
import type { ReplicaTable } from "./replica-table.js";
import type { ApplicationRecord, DeploymentRecord, ReplicaRecord } from "./types.js";
import { depKey } from "./types.js";

/** KV key holding the controller checkpoint. */
export const CHECKPOINT_KEY = "checkpoint";

/** What a restarted controller needs: desired state, the replica table, membership versions. */
export interface Checkpoint {
  v: 1;
  apps: ApplicationRecord[];
  deployments: DeploymentRecord[];
  /** Replicas without their volatile fields (ongoing, lastHeard). */
  replicas: ReplicaRecord[];
  versions: [string, number][];
  /** The generation counter (generations.ts); absent in checkpoints of older versions. */
  nextGeneration?: number;
}

/** Builds the checkpoint of the current state. */
export function snapshotState(
  desired: DesiredState,
  table: ReplicaTable,
  versions: [string, number][],
  nextGeneration: number,
): Checkpoint {
  return {
    v: 1,
    nextGeneration,
    apps: [...desired.apps.values()],
    deployments: [...desired.deployments.values()],
    replicas: table.all().map((r) => ({ ...r, ongoing: 0, lastHeard: 0 })),
    versions,
  };
}

/** Loads a checkpoint into empty state; returns the replicas it listed (unverified until heard). */
export function restoreState(
  cp: Checkpoint,
  desired: DesiredState,
  table: ReplicaTable,
  now: number,
): ReplicaRecord[] {
  for (const a of cp.apps) desired.apps.set(a.spec.name, a);
  for (const d of cp.deployments) desired.deployments.set(depKey(d.app, d.name), d);
  for (const r of cp.replicas) table.add({ ...r, lastHeard: now, ongoing: 0, generation: r.generation ?? 0 });
  return cp.replicas;
}

/**
 * Writes the checkpoint to JetStream KV when it changed, one write at a time (a write that starts
 * while another is in flight is folded into the next tick).
 */
export class CheckpointStore {
  private lastWritten = "";
  private writing = false;

  constructor(
    private readonly kv: KV,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads the stored checkpoint, or null if there is none (or it is unreadable). */
  async load(): Promise<Checkpoint | null> {
    const e = await this.kv.get(CHECKPOINT_KEY);
    if (!e || e.operation !== "PUT" || e.value.length === 0) return null;
    try {
      const cp = JSON.parse(new TextDecoder().decode(e.value)) as Checkpoint;
      if (cp.v !== 1) throw new Error(`unknown checkpoint version ${String(cp.v)}`);
      this.lastWritten = new TextDecoder().decode(e.value);
      return cp;
    } catch (err) {
      this.log(`ignoring unreadable checkpoint: ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * Reads the checkpoint, retrying every 200 ms while the read fails, as long as `current()` holds
   * (the caller is still the leader); undefined once it no longer does. A leader that cannot read
   * the checkpoint must not act on an empty state: it would take every live replica for an orphan
   * of a deleted deployment.
   */
  async loadWhile(current: () => boolean): Promise<Checkpoint | null | undefined> {
    while (current()) {
      try {
        return await this.load();
      } catch (e) {
        this.log(`checkpoint read failed (retrying): ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return undefined;
  }

  /** Saves `cp` unless it equals the last saved one. Errors are logged; the next tick retries. */
  save(cp: Checkpoint): void {
    const json = JSON.stringify(cp);
    if (json === this.lastWritten || this.writing) return;
    this.writing = true;
    this.kv
      .put(CHECKPOINT_KEY, new TextEncoder().encode(json))
      .then(() => {
        this.lastWritten = json;
      })
      .catch((e: unknown) => this.log(`checkpoint write failed: ${(e as Error).message}`))
      .finally(() => {
        this.writing = false;
      });
  }

  /** Writes `cp` now and waits for it (used before exiting). */
  async flush(cp: Checkpoint): Promise<void> {
    const json = JSON.stringify(cp);
    if (json === this.lastWritten) return;
    await this.kv.put(CHECKPOINT_KEY, new TextEncoder().encode(json));
    this.lastWritten = json;
  }

  /** Removes the checkpoint (after `ctl.shutdown`, the next controller starts empty). */
  async clear(): Promise<void> {
    await this.kv.delete(CHECKPOINT_KEY);
    this.lastWritten = "";
  }
}
