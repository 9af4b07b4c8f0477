import type { ApplicationSpec, DeploymentSpec } from "@tsserve/protocol/internal";
import type { ReplicaState } from "@tsserve/protocol";

/**
 * The controller's in-memory model. Everything here is plain data so that it can be checkpointed
 * as JSON and reloaded by a restarted controller.
 */

/** One replica as the controller tracks it. */
export interface ReplicaRecord {
  replicaId: string;
  app: string;
  deployment: string;
  nodeId: string;
  /** The deployment's {@link DeploymentRecord.versionKey} this replica was started with. */
  versionKey: string;
  codeVersion: string;
  state: ReplicaState;
  /** Process id; 0 until the agent or a heartbeat told us. */
  pid: number;
  /** Epoch ms the process started (from its heartbeat), else when we asked for it. */
  startedAt: number;
  /** Requests running right now, from the last heartbeat. */
  ongoing: number;
  /** Malformed requests it has rejected, from the last heartbeat (absent before the first). */
  rejectedMessages?: number;
  /** Stateful deployments: sessions it owns and hand-offs in progress, from the last heartbeat. */
  sessions?: number;
  handoffs?: number;
  /** Multiplexed deployments: models loaded or loading, from the last heartbeat (least recently used first). */
  models?: string[];
  /** Local epoch ms of the last heartbeat (or of the start request while STARTING). */
  lastHeard: number;
  /** Local epoch ms the controller asked for a start. */
  createdAt: number;
  /** Local epoch ms a stop was requested; 0 when none. */
  stopRequestedAt: number;
  /** Replicas lost in this slot before this one (it replaces the last of them); absent = 0. */
  restarts?: number;
  /** Last `checkHealth()` failure the replica reported; absent while healthy. */
  healthError?: string;
  /** Fencing identity issued at start (see generations.ts); 0 for records from an older checkpoint. */
  generation: number;
}

/** One deployment of an application: what is wanted and what the controller knows about it. */
export interface DeploymentRecord {
  app: string;
  name: string;
  spec: DeploymentSpec;
  /**
   * Identity of everything a replica is started with except the replica count: code version,
   * config without numReplicas/autoscaling, importPath and cwd. A replica whose key differs is
   * replaced by a rolling update.
   */
  versionKey: string;
  /** Replicas wanted right now (numReplicas, or the autoscaler's decision). */
  target: number;
  /** Constructor failures since the last replica reached RUNNING (crash-loop counter). */
  failures: number;
  /** Local epoch ms before which no replacement may start (crash-loop backoff). */
  backoffUntil: number;
  /** Set once the constructor failed too many times; starts stop until the next deploy. */
  unhealthy: string | null;
  /** The last failure's message, kept for the status report. */
  lastError: string;
  /** Set by `ctl.delete` / shutdown: drain everything, then forget the deployment. */
  deleting: boolean;
  /** True once a replica of this version reached READY: later failures are UNHEALTHY, not DEPLOY_FAILED. */
  readyOnce?: boolean;
  /** The stderr tail of the last replica that failed to start (for the CLI and status). */
  lastErrorLog?: string;
  /** RUNNING replicas lost without a stop request (crash, health check, lost node) since deployed. */
  restarts?: number;
  /** Restart counts of lost replicas' slots, handed to their replacements in order. */
  lostSlots?: number[];
}

/** One application: its spec (importPath, cwd, routePrefix) and deployment names. */
export interface ApplicationRecord {
  spec: ApplicationSpec;
  deleting: boolean;
}

/** An agent (machine) heard on `agent.*.hb`. */
export interface NodeRecord {
  nodeId: string;
  /** Local epoch ms of its last heartbeat. */
  lastSeen: number;
  /** Replica ids it reported in its last heartbeat. */
  replicaIds: Set<string>;
  /** Malformed commands it has rejected, from its last heartbeat. */
  rejectedMessages: number;
}

/** `app/deployment`, the key of deployment maps. */
export const depKey = (app: string, deployment: string): string => `${app}/${deployment}`;
