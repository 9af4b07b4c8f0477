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
}

export interface DeploymentStatusReport {
  name: string;
  status: DeploymentStatus;
  /** Why it is UNHEALTHY or UPDATING; empty when HEALTHY. */
  message: string;
  targetReplicas: number;
  replicas: ReplicaStatus[];
}

export interface ApplicationStatusReport {
  name: string;
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
  };
}
