import type { RequestRouterConfig, ResolvedDeploymentConfig } from "./options.js";

/** Lifecycle states of a replica as reported by `tsserve status` (contract). */
export type ReplicaState = "STARTING" | "RUNNING" | "DRAINING" | "STOPPED";
/** Deployment health as reported by `tsserve status` (contract). */
export type DeploymentStatus = "HEALTHY" | "UPDATING" | "UNHEALTHY";

/** What a router knows about one routable replica. */
export interface ReplicaInfo {
  replicaId: string;
  /** The agent (machine) hosting it. */
  nodeId: string;
  /**
   * Multiplexed deployments only: the model ids the replica has loaded or is loading (from its
   * heartbeats; least recently used first). Absent for other deployments and from older controllers.
   */
  models?: string[];
}

/** The routing-relevant part of a deployment's config, carried with every membership snapshot. */
export interface RoutingConfig {
  maxOngoingRequests: number;
  maxQueuedRequests: number;
  requestRouter: Required<RequestRouterConfig>;
  /** Methods safe to retry after a replica death (`true` = all). Absent from older controllers: false. */
  idempotent?: boolean | string[];
  /** Retries of an idempotent call. Absent: 3. */
  maxRetries?: number;
  /** Multiplexed deployments: models one replica holds at most (`multiplexed.maxModelsPerReplica`). */
  maxModelsPerReplica?: number;
}

/**
 * The RUNNING set of one deployment, broadcast on `members.<app>.<deployment>` and returned by
 * `ctl.members`. A full snapshot, never a delta. `version` only grows, across controller restarts
 * too; a handle ignores a snapshot whose version is not above the one it holds.
 */
export interface MembershipSnapshot {
  app: string;
  deployment: string;
  version: number;
  replicas: ReplicaInfo[];
  config: RoutingConfig;
  /**
   * The deployment was deleted: handles fail waiting and new calls with DeploymentNotFoundError at
   * once (calls already running on draining replicas finish). A later snapshot without it revives it.
   */
  retired?: boolean;
}

/**
 * Published by a replica on `hb.<app>.<deployment>.<replica>`: at once when it becomes RUNNING
 * (READY), when it starts DRAINING, when its constructor fails (FAILED, with the error), and every
 * `heartbeatPeriodMs` with jitter.
 */
export interface ReplicaHeartbeat {
  replicaId: string;
  app: string;
  deployment: string;
  nodeId: string;
  state: ReplicaState | "FAILED";
  /** Requests running right now. */
  ongoing: number;
  pid: number;
  /** Epoch ms when the process started. */
  startedAt: number;
  codeVersion: string;
  /** With state FAILED: the constructor's error message. */
  error?: string;
  /** Malformed requests this replica has rejected (answered BAD_REQUEST or dropped) since it started. */
  rejectedMessages?: number;
  /** Set (state RUNNING) when the class's `checkHealth()` threw or timed out: the controller replaces it. */
  healthError?: string;
  /**
   * The incarnation's generation, issued by the controller in its {@link ReplicaSpec}. A controller
   * never adopts a generation it retired. Absent (0) from replicas started without one.
   */
  generation?: number;
  /** Stateful deployments: sessions this replica owns right now. Absent: stateless. */
  sessions?: number;
  /** Stateful deployments: hand-offs of sessions to or from this replica in progress right now. */
  handoffs?: number;
  /**
   * Multiplexed deployments: the model ids loaded now (least recently used first), then those being
   * loaded, so that handles send a model's next calls where its load already runs.
   */
  models?: string[];
}

/**
 * Everything a replica process needs, passed by its agent in the `TSSERVE_REPLICA_SPEC`
 * environment variable as JSON.
 */
export interface ReplicaSpec {
  /** NATS server URL(s), comma-separated. */
  address: string;
  prefix: string;
  app: string;
  deployment: string;
  replicaId: string;
  nodeId: string;
  /** `path/to/module.ts#exportName` of the bound Application; a relative path is resolved from `cwd`. */
  importPath: string;
  /** Directory relative import paths resolve from. */
  cwd: string;
  config: ResolvedDeploymentConfig;
  codeVersion: string;
  /**
   * Stream flow-control overrides (tests, tuning); absent = the `DEFAULT_STREAM_*` values of
   * stream-flow.ts. Agents leave it out.
   */
  streamFlow?: { windowChunks?: number; windowBytes?: number; creditTimeoutMs?: number };
  /**
   * Fencing identity issued by the controller: grows with every replica it asks for (across
   * controller restarts, through the checkpoint). Echoed in every heartbeat. @default 0
   */
  generation?: number;
  /**
   * Set by the agent that spawns the process: its own pid. The replica exits (drains) as soon as its
   * parent is not this pid any more, also when that happened before the replica started.
   * @default no parent watch
   */
  parentPid?: number;
  /**
   * The replica exits by itself after it has been cut from NATS, or left out of its deployment's
   * membership snapshots while RUNNING, for longer than this. @default DEFAULT_FENCE_AFTER_MS
   */
  fenceAfterMs?: number;
  /**
   * Stateful deployments: the JetStream KV bucket of its sessions, created by the controller at
   * deploy. @default sessionBucketName(prefix, app, deployment)
   */
  sessionBucket?: string;
}

export const REPLICA_SPEC_ENV = "TSSERVE_REPLICA_SPEC";

/** Default of {@link ReplicaSpec.fenceAfterMs}: longer than any controller timeout by default. */
export const DEFAULT_FENCE_AFTER_MS = 30_000;

/**
 * Published by the controller on a replica's own subject `rctl.<app>.<deployment>.<replica>`
 * when it declares the replica dead or refuses to adopt it: the replica stops at once, without
 * going through its agent (which may be gone or may not know it).
 */
export interface ReplicaFence {
  replicaId: string;
  /** Only the incarnation with this generation obeys (0 = any). */
  generation: number;
  reason: string;
}

/** Published by handles on `hmetrics.<app>.<deployment>` about once a second while they have traffic. */
export interface HandleMetrics {
  handleId: string;
  app: string;
  deployment: string;
  /** Requests waiting for a replica. */
  queued: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** Epoch ms. */
  at: number;
}
