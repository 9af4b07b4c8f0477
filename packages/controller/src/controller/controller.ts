import { ErrorCode, NatsError, type KV, type NatsConnection, type Subscription } from "nats";
import {
  VERBS,
  agentPattern,
  connectNats,
  encode,
  membersSubject,
  replicaControlSubject,
  subjectPattern,
  type MembershipSnapshot,
  type ReplicaFence,
} from "@tsserve/protocol/internal";
import { AgentActions, replicaSpecFor } from "./agent-actions.js";
import { Autoscaler, autoscalePass } from "./autoscaler.js";
import { CoalescedSync } from "./coalesced-sync.js";
import { ConnectionWatch } from "./connection-watch.js";
import { CheckpointStore, restoreState, snapshotState } from "./checkpoint-store.js";
import {
  resolveControllerOptions,
  type ControllerOptions,
  type ResolvedControllerOptions,
} from "./controller-options.js";
import { ApiHandlers } from "./api-handlers.js";
import { serveControllerApi, subscribeDecoded } from "./controller-server.js";
import { liveNodeIds, type ApiHost } from "./core.js";
import { DesiredState } from "./desired-state.js";
import { Generations } from "./generations.js";
import { openStateBucket } from "./state-bucket.js";
import { recordFailure, removeReplica, sweepLiveness } from "./health-monitor.js";
import { LeaderLease } from "./leader-lease.js";
import { MembershipPublisher } from "./membership-publisher.js";
import { reconcileAll, type ReconcileActions } from "./reconciler.js";
import { heartbeatReplicaId, pruneUnheard, recoveryOver, recoveryWindow } from "./recovery.js";
import { onAgentHeartbeat, onReplicaExit, onReplicaHeartbeat } from "./replica-events.js";
import { ReplicaTable, newReplicaId, startingRecord } from "./replica-table.js";
import { depKey, type DeploymentRecord, type NodeRecord, type ReplicaRecord } from "./types.js";
import { serveControllerMetrics } from "./controller-metrics.js";
import { buildStatusReport } from "./status-report.js";

/** Membership changes closer together than this are folded into one broadcast. */
export const MEMBERSHIP_COALESCE_MS = 25;

/** Whether a request failed because nobody answered (no responders, timeout). */
function isUnreachable(e: unknown): boolean {
  return e instanceof NatsError && (e.code === ErrorCode.NoResponders || e.code === ErrorCode.Timeout);
}

/** A promise with its resolver, so requests can wait for recovery to finish. */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The tsserve controller: holds the desired state, places replicas on agents, tracks their
 * membership from heartbeats, broadcasts RUNNING sets, autoscales, rolls updates, and checkpoints
 * everything in JetStream KV. Only the holder of the KV leader lease acts; others wait passively.
 * It talks only over NATS and never runs user code.
 */
export class Controller implements ApiHost {
  readonly opts: ResolvedControllerOptions;
  readonly desired = new DesiredState();
  readonly table = new ReplicaTable();
  readonly nodes = new Map<string, NodeRecord>();
  readonly generations = new Generations();
  recovering = false;
  private nc: NatsConnection | undefined;
  private kv: KV | undefined;
  private lease: LeaderLease | undefined;
  private store: CheckpointStore | undefined;
  private agents: AgentActions | undefined;
  private publisher: MembershipPublisher;
  private readonly autoscaler = new Autoscaler();
  private readonly api: ApiHandlers;
  private subs: Subscription[] = [];
  private timers: NodeJS.Timeout[] = [];
  private connection: ConnectionWatch | undefined;
  private readonly membershipSync = new CoalescedSync(MEMBERSHIP_COALESCE_MS, (key) => {
    const d = this.desired.deployments.get(key);
    return d !== undefined && this.publisher.sync(d, this.table.ofDeployment(d.app, d.name));
  });
  /** Bumped on every change of leadership, so async work of an older term can tell it is stale. */
  private term = 0;
  private readyGate = gate();
  private lastNoCapacityLog = new Map<string, number>();
  private stopped = false;

  /** @param onExit called after `ctl.shutdown` finished (the process entry exits there). */
  constructor(
    options: ControllerOptions,
    private readonly onExit: () => void = () => {},
  ) {
    this.opts = resolveControllerOptions(options);
    this.publisher = new MembershipPublisher((s) => this.publishSnapshot(s));
    this.api = new ApiHandlers(this, this.autoscaler);
  }

  /** Whether this controller holds the lease and finished recovery. */
  get isActive(): boolean {
    return this.lease?.isLeader === true && !this.recovering;
  }

  /** This controller's lease id. */
  get id(): string {
    return this.opts.controllerId;
  }

  /** Connects, opens the KV bucket, and competes for the leader lease (returns without waiting for it). */
  async start(): Promise<void> {
    this.nc = await connectNats({
      address: this.opts.address,
      name: `tsserve-controller-${this.opts.controllerId}`,
    });
    this.connection = new ConnectionWatch(this.nc, (now) => this.forgiveSilence(now));
    this.kv = await openStateBucket(this.nc, this.opts, this.log);
    this.store = new CheckpointStore(this.kv, this.log);
    this.agents = new AgentActions(this.nc, this.opts, () => this.lease?.term ?? 0);
    serveControllerMetrics(this.nc, this.opts.prefix, this.opts.controllerId, () =>
      this.isActive ? buildStatusReport(this) : undefined,
    );
    this.lease = new LeaderLease(
      this.kv,
      this.opts.controllerId,
      this.opts.leaseTtlMs,
      this.opts.leaseRenewMs,
      (leader) => (leader ? void this.becomeLeader() : this.stepDown()),
      this.log,
    );
    await this.lease.start();
  }

  /** Resolves once this controller leads and has recovered (ctl requests wait on it). */
  whenReady(): Promise<void> {
    return this.readyGate.promise;
  }

  readonly log = (line: string): void => this.opts.log(line);
  /** Malformed or forged messages dropped or answered BAD_REQUEST (shown by `tsserve status`). */
  rejectedMessages = 0;
  readonly rejectMessage = (line: string): void => {
    this.rejectedMessages++;
    this.log(line);
  };

  // ---- leadership and recovery ----

  private async becomeLeader(): Promise<void> {
    const term = ++this.term;
    const nc = this.nc!;
    this.log(`${this.opts.controllerId} is the leader; recovering`);
    this.recovering = true;
    this.resetState();
    const cp = await this.store!.loadWhile(() => term === this.term);
    if (term !== this.term || cp === undefined) return;
    const listed = cp ? restoreState(cp, this.desired, this.table, Date.now()) : [];
    if (cp) this.publisher.restore(cp.versions);
    this.generations.restore(cp?.nextGeneration);
    const heard = new Set<string>();
    const p = this.opts.prefix;
    const reject = this.rejectMessage;
    this.subs = [
      subscribeDecoded(
        nc,
        subjectPattern(p, VERBS.heartbeat, ">"),
        (b) => {
          const id = heartbeatReplicaId(b);
          if (this.recovering && id !== undefined) heard.add(id);
          onReplicaHeartbeat(this, b, Date.now());
        },
        this.log,
        reject,
      ),
      subscribeDecoded(
        nc,
        agentPattern(p, "hb"),
        (b) => onAgentHeartbeat(this, b, Date.now()),
        this.log,
        reject,
      ),
      subscribeDecoded(
        nc,
        agentPattern(p, "exit"),
        (b) => onReplicaExit(this, b, Date.now()),
        this.log,
        reject,
      ),
      subscribeDecoded(
        nc,
        subjectPattern(p, VERBS.handleMetrics, ">"),
        (b) => this.api.onHandleMetrics(b),
        this.log,
        reject,
      ),
      ...serveControllerApi(nc, p, this.api.handlers(), this.log, () => this.rejectedMessages++),
    ];
    const began = Date.now();
    const windowMs = recoveryWindow(this.opts.recoveryWindowMs, listed, this.desired);
    // Wait to hear the checkpointed replicas: for the window, and longer (up to the configured cap)
    // while a live agent lists one not heard yet: it is alive, its heartbeat late on a busy machine.
    const maxMs = this.opts.recoveryWindowMs;
    while (term === this.term && !recoveryOver(this, listed, heard, Date.now() - began, windowMs, maxMs)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (term !== this.term) return;
    this.finishRecovery(listed, heard);
  }

  private finishRecovery(listed: ReplicaRecord[], heard: Set<string>): void {
    pruneUnheard(this, listed, heard, Date.now());
    this.recovering = false;
    this.publisher.enabled = true;
    for (const d of this.desired.deployments.values()) this.membershipChanged(d.app, d.name);
    this.log(
      `recovery done: ${this.desired.deployments.size} deployments, ${this.table.size} replicas adopted, ${this.nodes.size} agents`,
    );
    this.timers.push(
      setInterval(() => this.tick(), this.opts.reconcileIntervalMs),
      setInterval(() => this.publisher.republishAll(), this.opts.republishIntervalMs),
    );
    for (const t of this.timers) t.unref();
    this.readyGate.resolve();
  }

  private stepDown(): void {
    this.term++;
    this.log(`${this.opts.controllerId} is no longer the leader; going passive`);
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.resetState();
    this.readyGate = gate();
  }

  private resetState(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.membershipSync.cancelAll();
    this.desired.clear();
    this.table.clear();
    this.nodes.clear();
    this.autoscaler.forget();
    this.publisher.reset();
    this.generations.reset();
  }

  // ---- the reconcile loop ----

  /** After a NATS outage: nobody could be heard, so every replica and agent starts a fresh timeout. */
  private forgiveSilence(now: number): void {
    for (const r of this.table.all()) r.lastHeard = Math.max(r.lastHeard, now);
    for (const n of this.nodes.values()) n.lastSeen = Math.max(n.lastSeen, now);
  }

  /** One pass: liveness sweep, autoscaling, convergence, checkpoint. Exceptions are logged. */
  tick(): void {
    if (!this.lease?.isLeader || this.recovering || this.stopped || !this.connection?.connected) return;
    const now = Date.now();
    try {
      sweepLiveness(this, now);
      autoscalePass(this, this.autoscaler, now);
      reconcileAll(this.desired, this.table, liveNodeIds(this), now, this.actions, this.log);
      this.store?.save(this.checkpoint());
    } catch (e) {
      this.log(`reconcile tick failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private readonly actions: ReconcileActions = {
    start: (d, nodeId) => this.startReplica(d, nodeId),
    stop: (r, reason) => this.takeOutOfService(r, reason),
    retire: (d) => {
      this.publisher.retire(d);
      this.desired.forget(depKey(d.app, d.name));
      this.autoscaler.forget(depKey(d.app, d.name));
      this.log(`deployment ${depKey(d.app, d.name)} removed`);
    },
    noCapacity: (d) => {
      const key = depKey(d.app, d.name);
      const now = Date.now();
      if (now - (this.lastNoCapacityLog.get(key) ?? 0) < 10_000) return;
      this.lastNoCapacityLog.set(key, now);
      this.log(`${key}: no live agent to place a replica on; waiting for one`);
    },
  };

  private startReplica(d: DeploymentRecord, nodeId: string): void {
    const app = this.desired.apps.get(d.app)!;
    const now = Date.now();
    const replicaId = newReplicaId(
      d.name,
      (id) => this.table.get(id) !== undefined || this.table.isTombstoned(id),
    );
    const rec = startingRecord(d, nodeId, replicaId, now, this.generations.issue());
    this.table.add(rec);
    const spec = replicaSpecFor(this.opts, app.spec, d, rec);
    const term = this.term;
    this.agents!.start(spec).catch((e: unknown) => {
      if (term !== this.term || this.table.get(replicaId)?.state !== "STARTING") return;
      removeReplica(this, rec, `agent ${nodeId} could not start it`, true);
      if (isUnreachable(e)) {
        // The agent is gone (its heartbeats have not timed out yet): stop placing on it; a live
        // agent re-registers with its next heartbeat. Not the deployment's fault, so not counted.
        this.nodes.delete(nodeId);
        this.log(`agent ${nodeId} unreachable (${(e as Error).message}); placing elsewhere`);
        return;
      }
      recordFailure(
        this,
        d,
        `agent ${nodeId} could not start replica ${replicaId}: ${(e as Error).message}`,
        Date.now(),
      );
    });
  }

  /** Leave the RUNNING set first (published at once), then ask the agent to drain the process. */
  private takeOutOfService(r: ReplicaRecord, reason: string): void {
    if (r.state === "DRAINING" || r.state === "STOPPED") return;
    const wasRunning = r.state === "RUNNING";
    r.state = "DRAINING";
    r.stopRequestedAt = Date.now();
    if (wasRunning) {
      this.log(`draining ${r.replicaId}: ${reason}`);
      this.membershipChanged(r.app, r.deployment);
    }
    const d = this.desired.deployments.get(depKey(r.app, r.deployment));
    this.stopOnAgent(r, wasRunning, d?.spec.config.gracefulShutdownTimeoutMs ?? 20_000);
  }

  // ---- ControllerCore ----

  /** Publishes a deployment's RUNNING set after a change (coalesced, see {@link CoalescedSync}). */
  membershipChanged(app: string, deployment: string): void {
    this.membershipSync.request(depKey(app, deployment));
  }

  stopOnAgent(r: ReplicaRecord, graceful: boolean, timeoutMs: number): void {
    this.agents?.stop(r.nodeId, r.replicaId, graceful, timeoutMs).catch((e: unknown) => {
      this.log(`agent ${r.nodeId} could not stop ${r.replicaId}: ${(e as Error).message}`);
    });
  }

  fence(r: Pick<ReplicaRecord, "replicaId" | "app" | "deployment" | "generation">, reason: string): void {
    if (!this.nc || this.nc.isClosed()) return;
    const order: ReplicaFence = { replicaId: r.replicaId, generation: r.generation, reason };
    try {
      this.nc.publish(
        replicaControlSubject(this.opts.prefix, r.app, r.deployment, r.replicaId),
        encode(order),
      );
    } catch (e) {
      this.log(`could not fence ${r.replicaId}: ${(e as Error).message}`);
    }
  }

  private checkpoint(): ReturnType<typeof snapshotState> {
    return snapshotState(this.desired, this.table, this.publisher.versions(), this.generations.nextValue);
  }

  private publishSnapshot(s: MembershipSnapshot): void {
    if (!this.nc || this.nc.isClosed()) return;
    this.nc.publish(membersSubject(this.opts.prefix, s.app, s.deployment), encode(s));
  }

  /** The last snapshot published for a deployment, computing it if needed. */
  snapshotOf(d: DeploymentRecord): MembershipSnapshot | undefined {
    this.membershipSync.runNow(depKey(d.app, d.name));
    return this.publisher.snapshot(d.app, d.name);
  }

  /** Agents asked to shut down by `ctl.shutdown`. */
  get agentActions(): AgentActions | undefined {
    return this.agents;
  }

  /** Writes the checkpoint now. */
  async flushCheckpoint(): Promise<void> {
    await this.store?.flush(this.checkpoint());
  }

  /** The controller's NATS connection (undefined before `start()`). */
  get natsConnection(): NatsConnection | undefined {
    return this.nc;
  }

  /** Deletes the checkpoint (after a full shutdown). */
  async clearCheckpoint(): Promise<void> {
    await this.store?.clear();
  }

  /** Called by the shutdown handler once everything is drained. */
  async exitAfterShutdown(): Promise<void> {
    await this.stop({ release: true, checkpoint: false });
    this.onExit();
  }

  /**
   * Stops acting and closes the connection. Replicas keep running (the controller is not on the
   * request path). With `release` (default) the lease is freed so a successor takes over at once.
   */
  async stop(options: { release?: boolean; checkpoint?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    const leader = this.lease?.isLeader === true && !this.recovering;
    this.stopped = true;
    this.term++;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.membershipSync.cancelAll();
    if (leader && options.checkpoint !== false) await this.flushCheckpoint().catch(() => {});
    await this.lease?.stop(options.release ?? true);
    for (const s of this.subs) s.unsubscribe();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => {});
  }
}
