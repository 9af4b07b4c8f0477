import type { NatsConnection } from "nats";
import type { MembershipSnapshot } from "@tsserve/protocol/internal";
import type { AgentActions } from "./agent-actions.js";
import type { ResolvedControllerOptions } from "./controller-options.js";
import type { DesiredState } from "./desired-state.js";
import type { Generations } from "./generations.js";
import type { ReplicaTable } from "./replica-table.js";
import type { DeploymentRecord, NodeRecord, ReplicaRecord } from "./types.js";

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

/**
 * What the controller API (`ctl.*`, api-handlers.ts) needs beyond the core: the Controller
 * implements it, so the handlers depend on this interface and not on the Controller class.
 */
export interface ApiHost extends ControllerCore {
  /** Resolves once this controller leads and has recovered. */
  whenReady(): Promise<void>;
  /** One reconcile pass now. */
  tick(): void;
  /** The last snapshot published for a deployment, computing it if needed. */
  snapshotOf(d: DeploymentRecord): MembershipSnapshot | undefined;
  /** Requests to agents (undefined before `start()`). */
  readonly agentActions: AgentActions | undefined;
  /** The controller's NATS connection (undefined before `start()`): session buckets are made with it. */
  readonly natsConnection: NatsConnection | undefined;
  /** Deletes the checkpoint (after a full shutdown). */
  clearCheckpoint(): Promise<void>;
  /** Stops and calls the process's exit hook (after `ctl.shutdown`). */
  exitAfterShutdown(): Promise<void>;
}

/** Live agents' node ids, sorted. */
export function liveNodeIds(core: ControllerCore): string[] {
  return [...core.nodes.keys()].sort();
}
