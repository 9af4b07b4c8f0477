import type { ChildProcess } from "node:child_process";
import type { AgentReplica, ReplicaSpec } from "@tsserve/protocol/internal";
import { StderrTail } from "./stderr-tail.js";

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One replica process on this agent: its spec, pid, stderr tail, and the stop escalation
 * (SIGTERM → SIGKILL after a timeout). Knows nothing about NATS; the agent reports its exit.
 */
export class ReplicaChild {
  /** Epoch ms when the process was spawned. */
  readonly startedAt = Date.now();
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  private readonly tail: StderrTail;
  private killTimer: NodeJS.Timeout | undefined;
  private killDeadline = Infinity;
  private done = false;

  /**
   * @param child a freshly spawned process whose `pid` is set (spawn succeeded).
   * @param forwardStderr also copy the child's stderr to this process's stderr, so logs stay visible.
   */
  constructor(
    readonly spec: ReplicaSpec,
    private readonly child: ChildProcess,
    tailLines: number,
    forwardStderr: boolean,
  ) {
    if (child.pid === undefined) throw new Error(`replica ${spec.replicaId} has no pid: spawn failed`);
    this.pid = child.pid;
    this.tail = new StderrTail(tailLines);
    child.stderr?.on("data", (d: Buffer) => {
      this.tail.push(d);
      if (forwardStderr) process.stderr.write(d);
    });
    this.exited = new Promise((resolve) => {
      // "close" (not "exit") so the stderr tail is complete: it fires after the streams end.
      child.once("close", (code, signal) => {
        this.done = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        resolve({ code, signal });
      });
    });
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.done;
  }

  /** The last lines the process wrote to stderr. */
  stderrTail(): string {
    return this.tail.toString();
  }

  /** The replica as listed in agent heartbeats. */
  describe(): AgentReplica {
    const { replicaId, app, deployment } = this.spec;
    const generation = this.spec.generation ?? 0;
    return { replicaId, app, deployment, pid: this.pid, startedAt: this.startedAt, generation };
  }

  /**
   * Graceful: SIGTERM (the replica drains), then SIGKILL if it is still alive after `timeoutMs`.
   * Not graceful: SIGKILL at once. A second call can only make the stop harsher or sooner.
   */
  stop(graceful: boolean, timeoutMs: number): Promise<ChildExit> {
    if (this.done) return this.exited;
    if (!graceful || timeoutMs <= 0) {
      this.signal("SIGKILL");
      return this.exited;
    }
    const deadline = Date.now() + timeoutMs;
    if (this.killTimer === undefined) this.signal("SIGTERM");
    else if (deadline >= this.killDeadline) return this.exited;
    else clearTimeout(this.killTimer);
    this.killDeadline = deadline;
    this.killTimer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    return this.exited;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig);
    } catch {
      // ESRCH: it exited between our check and the kill; the "close" event reports it.
    }
  }
}
