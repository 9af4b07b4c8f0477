import type { NatsConnection, Subscription } from "nats";
import {
  DEFAULT_FENCE_AFTER_MS,
  decode,
  decodeMembershipSnapshot,
  decodeReplicaFence,
  membersSubject,
  replicaControlSubject,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

/**
 * Replica-side fencing: the reasons a replica stops by itself, so that a replica the cluster has
 * given up on never serves again (internals.md "Fencing").
 *
 * - its parent (the agent that spawned it, `spec.parentPid`) is gone, also when that happened
 *   before this process got this far;
 * - the controller told it to stop on its own subject `rctl.<app>.<deployment>.<replica>`;
 * - it has been cut from NATS for longer than `spec.fenceAfterMs`;
 * - while RUNNING, every membership snapshot for longer than `spec.fenceAfterMs` left it out.
 *
 * Timers are unref'd: the watch never keeps a process alive on its own.
 */

/** Why a replica fenced itself; `hard` = no point draining (NATS is gone). */
export interface FenceReason {
  reason: string;
  hard: boolean;
}

/** How often the parent pid and the bounds are checked. */
export const FENCE_POLL_MS = 250;

/**
 * Calls `onGone` once when this process's parent is no longer `parentPid` (re-parented to init or
 * a subreaper). Checks at once, then every {@link FENCE_POLL_MS}. Returns a stop function.
 */
export function watchParent(parentPid: number | undefined, onGone: (reason: string) => void): () => void {
  if (parentPid === undefined || parentPid <= 0) return () => {};
  const check = (): boolean => {
    if (process.ppid === parentPid) return false;
    onGone(`parent process ${parentPid} is gone (ppid now ${process.ppid})`);
    return true;
  };
  if (check()) return () => {};
  const timer = setInterval(() => {
    if (check()) clearInterval(timer);
  }, FENCE_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Watches the connection, the replica's own control subject and its deployment's membership once
 * the replica is RUNNING. `isRunning` says whether the replica currently reports RUNNING (a
 * STARTING or DRAINING replica is rightly left out of membership).
 */
export class FenceWatch {
  private readonly subs: Subscription[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly boundMs: number;
  private cutSince = 0;
  private excludedSince = 0;
  private lastVersion = -1;
  private fired = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: ReplicaSpec,
    private readonly isRunning: () => boolean,
    private readonly onFence: (why: FenceReason) => void,
  ) {
    this.boundMs = spec.fenceAfterMs ?? DEFAULT_FENCE_AFTER_MS;
    const { prefix, app, deployment, replicaId } = spec;
    this.subs.push(
      nc.subscribe(replicaControlSubject(prefix, app, deployment, replicaId), {
        callback: (err, msg) => {
          if (!err) this.onControl(msg.data);
        },
      }),
      nc.subscribe(membersSubject(prefix, app, deployment), {
        callback: (err, msg) => {
          if (!err) this.onMembers(msg.data);
        },
      }),
    );
    void this.watchStatus();
    this.timer = setInterval(() => this.check(Date.now()), FENCE_POLL_MS);
    this.timer.unref();
  }

  /** Stops watching (the replica is draining for another reason). */
  stop(): void {
    clearInterval(this.timer);
    for (const s of this.subs) s.unsubscribe();
  }

  private fire(why: FenceReason): void {
    if (this.fired) return;
    this.fired = true;
    clearInterval(this.timer);
    this.onFence(why);
  }

  private onControl(data: Uint8Array): void {
    let fence;
    try {
      fence = decodeReplicaFence(decode(data));
    } catch {
      return; // only the controller role may publish here; a malformed order is not an order
    }
    const mine = this.spec.generation ?? 0;
    if (fence.replicaId !== this.spec.replicaId) return;
    if (fence.generation !== 0 && fence.generation !== mine) return;
    this.fire({ reason: `stopped by the controller: ${fence.reason}`, hard: false });
  }

  private onMembers(data: Uint8Array): void {
    let snap;
    try {
      snap = decodeMembershipSnapshot(decode(data));
    } catch {
      return;
    }
    if (snap.version <= this.lastVersion) return;
    this.lastVersion = snap.version;
    if (snap.replicas.some((r) => r.replicaId === this.spec.replicaId)) this.excludedSince = 0;
    else if (this.isRunning() && this.excludedSince === 0) this.excludedSince = Date.now();
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" && this.cutSince === 0) this.cutSince = Date.now();
      else if (s.type === "reconnect") this.cutSince = 0;
    }
  }

  /** Exposed for tests: one evaluation of the bounds at `now`. */
  check(now: number): void {
    if (this.cutSince > 0 && now - this.cutSince > this.boundMs) {
      this.fire({ reason: `cut from NATS for ${now - this.cutSince} ms`, hard: true });
    } else if (this.excludedSince > 0 && this.isRunning() && now - this.excludedSince > this.boundMs) {
      this.fire({ reason: `left out of membership for ${now - this.excludedSince} ms`, hard: false });
    }
  }
}
