import type { DeploymentStatus, ReplicaState } from "./control-plane.js";
import type { ResolvedDeploymentConfig } from "./options.js";
import type { WireError } from "./wire-error.js";

/**
 * Requests to the controller go to `ctl.<op>` as msgpack; replies are {@link ControllerReply}.
 * The CLI, the proxy and handles use only these.
 */
export const CONTROLLER_OPS = {
  /** {@link DeployRequest} → `null`. Upserts the listed applications; idempotent. */
  deploy: "deploy",
  /** `{ app: string }` → `null`. Drains and removes an application. */
  delete: "delete",
  /** `{}` → {@link StatusReport}. */
  status: "status",
  /** `{ app, deployment }` → MembershipSnapshot, or DEPLOYMENT_NOT_FOUND. */
  members: "members",
  /** `{}` → `null`. Drains every application, stops agents, then the controller exits. */
  shutdown: "shutdown",
} as const;

export type ControllerReply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** One deployment of an application, with its options already merged (code defaults ← serve.yaml). */
export interface DeploymentSpec {
  config: ResolvedDeploymentConfig;
  /** Changes when the code changes; a new value rolls the replicas over. */
  codeVersion: string;
}

export interface ApplicationSpec {
  name: string;
  /** HTTP route prefix for the proxy, e.g. "/chat"; null = not exposed over HTTP. */
  routePrefix: string | null;
  /** `path/to/app.ts#exportName` of the bound ingress Application. */
  importPath: string;
  /** Directory a relative importPath resolves from (on every machine). */
  cwd: string;
  /** Name of the ingress deployment (the one importPath binds). */
  ingress: string;
  deployments: DeploymentSpec[];
}

export interface DeployRequest {
  applications: ApplicationSpec[];
}

/**
 * Application states, as Ray Serve's `ApplicationStatus` (contract): DEPLOYING while a deployment
 * is UPDATING; RUNNING when every deployment is HEALTHY; DEPLOY_FAILED when a deployment gave up
 * before any replica of its version was READY (a throwing or hanging constructor); UNHEALTHY when
 * it gave up after serving; DELETING while a deleted application's replicas drain.
 */
export type ApplicationStatus = "DEPLOYING" | "RUNNING" | "DEPLOY_FAILED" | "DELETING" | "UNHEALTHY";

/** One replica in `tsserve status --json` (docs/status-json.md). */
export interface ReplicaStatus {
  replicaId: string;
  nodeId: string;
  state: ReplicaState;
  ongoing: number;
  /** Epoch ms. */
  startedAt: number;
  pid: number;
  /** Malformed requests the replica has rejected (from its last heartbeat). */
  rejectedMessages?: number;
  // The fields below are always sent by this controller; optional in the type only so that
  // reports from an older controller (and hand-made ones in tests) still type-check.
  /** The code version it runs (changes with the code: a rolling update replaces it). */
  codeVersion?: string;
  /** Replicas lost in this slot before this one (replicas are replaced, never restarted in place). */
  restarts?: number;
  /** Stateful deployments: sessions it owns (from its last heartbeat). */
  sessions?: number;
  /** Stateful deployments: session hand-offs to or from it in progress (from its last heartbeat). */
  handoffs?: number;
  /** Multiplexed deployments: the models it has loaded or is loading (from its last heartbeat). */
  models?: string[];
}

/** One deployment in `tsserve status --json`. */
export interface DeploymentStatusReport {
  name: string;
  status: DeploymentStatus;
  /** Why it is UNHEALTHY or UPDATING; empty when HEALTHY. */
  message: string;
  targetReplicas: number;
  replicas: ReplicaStatus[];
  // Always sent by this controller; optional in the type for reports of older controllers.
  /** Serving replicas lost (crash, failed health check, lost node) since this version was deployed. */
  restarts?: number;
  /** The last failure's message ("" when none). */
  lastError?: string;
  /** The stderr tail of the last replica that failed to start ("" when none). */
  lastErrorLog?: string;
  /** The deployment's request router (class and kwargs), e.g. for drawing its hash ring. */
  router?: { class: string; kwargs: Record<string, unknown> };
}

/** One application in `tsserve status --json`. */
export interface ApplicationStatusReport {
  name: string;
  /** Ray Serve's application states (always sent; optional for reports of older controllers). */
  status?: ApplicationStatus;
  /** Why it is not RUNNING; empty when RUNNING. */
  message?: string;
  routePrefix: string | null;
  ingress: string;
  deployments: DeploymentStatusReport[];
}

export interface StatusReport {
  applications: ApplicationStatusReport[];
  /** Agents (machines) the controller knows. */
  nodes: { nodeId: string; replicas: number; lastSeen: number; rejectedMessages?: number }[];
  /** Malformed or forged messages the controller has rejected since it started. */
  controller?: {
    rejectedMessages: number;
    /** The answering (leading) controller's lease id. */
    id?: string;
    /**
     * True while the answering controller, having just taken the lease, is still hearing which
     * checkpointed replicas are alive (at most its recovery window): replica states are then
     * those of the checkpoint, and deploys take effect when it is done.
     */
    recovering?: boolean;
  };
}
