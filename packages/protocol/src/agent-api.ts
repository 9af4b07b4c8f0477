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

/**
 * Every command a controller sends an agent carries the controller's lease term (the KV revision at
 * which it took the lease). An agent remembers the highest term it has seen and refuses commands of
 * a lower one (UNAVAILABLE, "stale lease term"): a controller that lost its lease cannot start or stop anything.
 */
export interface FencedCommand {
  /** The sender's lease term. @default 0 (accepted only before any term was seen) */
  term?: number;
}

/** `agent.<node>.start` body: the replica's spec plus the sender's term. */
export type StartReplicaRequest = ReplicaSpec & FencedCommand;

export interface StopReplicaRequest extends FencedCommand {
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
  /** The generation in its spec (0 when none). */
  generation?: number;
}

export interface AgentHeartbeat {
  nodeId: string;
  pid: number;
  hostname: string;
  startedAt: number;
  replicas: AgentReplica[];
  /** Malformed commands this agent has rejected since it started. */
  rejectedMessages?: number;
  /** The highest controller lease term this agent has obeyed (0 before any). */
  term?: number;
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
