import type { ReplicaSpec } from "./control-plane.js";

/**
 * Controller ↔ agent messages. An agent owns the replica processes on one machine; they are its
 * children. Subjects: `agent.<nodeId>.<op>` (see {@link agentSubject}).
 */
export const AGENT_OPS = {
  /** Request: {@link ReplicaSpec} → ControllerReply<null> once the process is spawned (not READY). */
  start: "start",
  /** Request: {@link StopReplicaRequest} → ControllerReply<null> at once; the stop proceeds. */
  stop: "stop",
  /** Published every second: {@link AgentHeartbeat}. */
  heartbeat: "hb",
  /** Published the moment a replica process exits: {@link ReplicaExit}. */
  exit: "exit",
  /** Request: `{}` → ControllerReply<null>; the agent stops its replicas (gracefully) and exits. */
  shutdown: "shutdown",
} as const;

export interface StopReplicaRequest {
  replicaId: string;
  /** SIGTERM (drain) first; SIGKILL after `timeoutMs`. False = SIGKILL at once. */
  graceful: boolean;
  timeoutMs: number;
}

export interface AgentReplica {
  replicaId: string;
  app: string;
  deployment: string;
  pid: number;
  startedAt: number;
}

export interface AgentHeartbeat {
  nodeId: string;
  pid: number;
  hostname: string;
  startedAt: number;
  replicas: AgentReplica[];
  /** Malformed commands this agent has rejected since it started. */
  rejectedMessages?: number;
}

export interface ReplicaExit {
  nodeId: string;
  replicaId: string;
  app: string;
  deployment: string;
  code: number | null;
  signal: string | null;
  /** The last lines the process wrote to stderr (a constructor's error shows here too). */
  stderrTail: string;
}

export type { ReplicaSpec };
