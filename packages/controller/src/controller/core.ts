import type { ResolvedControllerOptions } from "./controller-options.js";
import type { DesiredState } from "./desired-state.js";
import type { Generations } from "./generations.js";
import type { ReplicaTable } from "./replica-table.js";
import type { NodeRecord, ReplicaRecord } from "./types.js";

/**
 * The shared state and the few side effects that event handlers, the health monitor and the
 * reconciler need. The Controller implements it; unit tests implement it with fakes.
 */
export interface ControllerCore {
  readonly opts: ResolvedControllerOptions;
  readonly desired: DesiredState;
  readonly table: ReplicaTable;
  readonly nodes: Map<string, NodeRecord>;
  /** The generation counter (fencing). */
  readonly generations: Generations;
  /** True between taking the lease and finishing recovery. */
  readonly recovering: boolean;
  /** Recompute and, if it changed, publish one deployment's RUNNING set right now. */
  membershipChanged(app: string, deployment: string): void;
  /** Ask a replica's agent to stop it (fire and forget; failures are logged). */
  stopOnAgent(r: ReplicaRecord, graceful: boolean, timeoutMs: number): void;
  /**
   * Tell a replica to stop on its own subject (`rctl.…`), not through its agent: the agent may be
   * gone, or a new agent with the same node id may not know the replica.
   */
  fence(r: Pick<ReplicaRecord, "replicaId" | "app" | "deployment" | "generation">, reason: string): void;
  log(line: string): void;
  /** Counts (for `tsserve status`) and logs a malformed or forged message that was dropped. */
  rejectMessage(line: string): void;
  /** How many {@link rejectMessage} counted. */
  readonly rejectedMessages: number;
}

/** Live agents' node ids, sorted. */
export function liveNodeIds(core: ControllerCore): string[] {
  return [...core.nodes.keys()].sort();
}
