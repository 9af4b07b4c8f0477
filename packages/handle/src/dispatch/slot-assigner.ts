import type { ReplicaInfo } from "@tsserve/protocol";
import { RequestState, type PendingRequest } from "../pending-request.js";
import type { ProbeResult } from "../replica-transport.js";
import { OwnerPatience } from "./owner-patience.js";
import type { ReplicaLoad } from "./replica-load.js";
import type { ReplicaProber } from "./replica-prober.js";
import type { ReplicaSet } from "./replica-set.js";
import type { WaitQueue } from "./wait-queue.js";
import { chooseGroups, modelPatienceMs } from "../multiplex/model-routing.js";

/** What the {@link SlotAssigner} works on, owned by the dispatcher. */
export interface SlotAssignerDeps {
  replicas: ReplicaSet;
  load: ReplicaLoad;
  prober: ReplicaProber;
  waiting: WaitQueue<PendingRequest>;
  now: () => number;
  /** Sends a waiting call to a replica (it leaves the queue). */
  send(req: PendingRequest, replicaId: string, rank: number): void;
  /** Ends a call with an error (its router failed). */
  finish(req: PendingRequest, error: Error): void;
}

/**
 * Decides which waiting call takes which free slot: the policy half of the dispatcher. A call is
 * placed at once when a replica of its usable groups has a believed free slot; otherwise it waits
 * in arrival order and each slot that frees goes to the oldest call that may use it. Owner
 * patience limits a sticky call to its first group for a while; after it, the call takes only
 * spare capacity. What replies cannot tell is asked by probes (unknown replicas) and backoff
 * re-checks (full replicas held by other handles).
 */
export class SlotAssigner {
  private readonly patience: OwnerPatience;
  private readonly routable = (id: string): boolean => this.deps.replicas.isRoutable(id);

  constructor(private readonly deps: SlotAssignerDeps) {
    this.patience = new OwnerPatience(deps.now, (req) => this.placeOrWait(req));
  }

  /** Stops the patience timer. */
  close(): void {
    this.patience.close();
  }

  /** Sends `req` now if a replica it may use has a free slot; otherwise it waits (in arrival order). */
  placeOrWait(req: PendingRequest): void {
    if (!this.place(req)) this.deps.waiting.insertByAge(req);
  }

  /** Tries to send `req`; true when it left the queue (sent, or failed by its router). */
  private place(req: PendingRequest): boolean {
    const routerError = this.deps.replicas.routerError;
    if (routerError !== null) {
      this.deps.finish(req, routerError);
      return true;
    }
    const config = this.deps.replicas.config;
    const groups = this.groupsOf(req);
    if (groups === null || config === null) return req.state === RequestState.DONE;
    const max = config.maxOngoingRequests;
    const usable = this.usableRanks(req, groups);
    for (let rank = 0; rank < usable; rank++) {
      const g = groups[rank]!;
      const id = this.deps.load.bestFree(g, max, this.routable);
      if (id !== null && (rank === 0 || req.spillAt === 0 || !this.ownerWaits(id))) {
        this.deps.send(req, id, rank);
        // Learn the rest of the group for the next call (Ray probes the group it chooses from).
        if (g.length > 1 && g !== this.deps.replicas.candidates) this.probeUnknown(g);
        return true;
      }
    }
    this.seekRoom(req, groups, usable, max);
    return false;
  }

  private probeUnknown(group: readonly ReplicaInfo[]): void {
    for (let i = 0; i < group.length; i++) {
      const id = group[i]!.replicaId;
      if (
        this.deps.load.queueLen(id) === undefined &&
        !this.deps.prober.isPending(id) &&
        this.deps.replicas.isRoutable(id)
      )
        void this.deps.prober.probe(id);
    }
  }

  /**
   * Every slot free on `replicaId` goes to the oldest waiting calls that may use it. A call whose
   * owner patience ran out takes a fallback's slot only when no call waits for that replica as its
   * own first choice: spills use spare capacity, they do not push other sessions off their owner.
   */
  dispatchTo(replicaId: string): void {
    const config = this.deps.replicas.config;
    if (this.deps.waiting.size === 0 || config === null || !this.deps.replicas.isRoutable(replicaId)) return;
    const max = config.maxOngoingRequests;
    let spills: PendingRequest[] | null = null;
    for (let req = this.deps.waiting.head; req !== null && this.deps.load.free(replicaId, max) > 0;) {
      const next = req.qNext;
      const rank = req.probing ? -1 : this.rankOf(req, replicaId);
      if (rank > 0 && req.spillAt > 0) (spills ??= []).push(req);
      else if (rank >= 0) this.deps.send(req, replicaId, rank);
      req = next;
    }
    if (spills === null) return;
    for (const req of spills) {
      if (this.deps.load.free(replicaId, max) === 0) return;
      if (req.state === RequestState.WAITING) this.deps.send(req, replicaId, this.rankOf(req, replicaId));
    }
  }

  /** True when a waiting call with owner patience has `replicaId` in its first group. */
  private ownerWaits(replicaId: string): boolean {
    for (let w = this.deps.waiting.head; w !== null; w = w.qNext) {
      if (w.spillAt === 0 || w.groups === null || w.groupsVersion !== this.deps.replicas.version) continue;
      const g = w.groups[0];
      if (g !== undefined) for (let i = 0; i < g.length; i++) if (g[i]!.replicaId === replicaId) return true;
    }
    return false;
  }

  /** Offers every waiting call, oldest first, whatever is free (after a change of the replica set). */
  dispatchAll(): void {
    for (let req = this.deps.waiting.head; req !== null;) {
      const next = req.qNext;
      this.place(req);
      req = next;
    }
  }

  /** The rank through which `req` may use `replicaId` now, or -1. */
  private rankOf(req: PendingRequest, replicaId: string): number {
    const groups = this.groupsOf(req);
    if (groups === null) return -1;
    const all = this.deps.replicas.candidates;
    const usable = this.usableRanks(req, groups);
    for (let rank = 0; rank < usable; rank++) {
      const g = groups[rank]!;
      if (g === all) return rank;
      for (let i = 0; i < g.length; i++) if (g[i]!.replicaId === replicaId) return rank;
    }
    return -1;
  }

  /** The router's ranked groups for `req`, recomputed after a change of the replica set; null = none yet. */
  private groupsOf(req: PendingRequest): ReplicaInfo[][] | null {
    const version = this.deps.replicas.version;
    if (req.groups !== null && req.groupsVersion === version) return req.groups;
    const router = this.deps.replicas.router;
    const candidates = this.deps.replicas.candidates;
    if (router === null || candidates.length === 0) return null;
    try {
      req.groups = chooseGroups(router, this.deps.replicas.config, candidates, req);
    } catch (e) {
      this.deps.finish(req, e instanceof Error ? e : new Error(String(e)));
      return null;
    }
    req.groupsVersion = version;
    return req.groups;
  }

  /** How many of `req`'s groups may take it now: only the first while owner patience lasts. */
  private usableRanks(req: PendingRequest, groups: ReplicaInfo[][]): number {
    if (groups.length <= 1 || req.patienceOver) return groups.length;
    if (req.spillAt === 0) {
      const ms = modelPatienceMs(this.deps.replicas.router!, req);
      if (!(ms > 0) || this.deps.now() - req.createdAt >= ms) {
        req.patienceOver = true;
        return groups.length;
      }
      req.spillAt = req.createdAt + ms;
      this.patience.add(req);
    }
    return 1;
  }

  /**
   * Nothing usable is free: learn what replies will not tell. Unknown members of the router's
   * explicit groups are probed and `req` waits for those answers before it chooses (as Ray's loop
   * does), so it takes the shortest queue rather than the first to answer; in the group of every
   * candidate at most two are probed, in the background. Full replicas whose slots other handles
   * hold are re-checked with backoff.
   */
  private seekRoom(req: PendingRequest, groups: ReplicaInfo[][], usable: number, max: number): void {
    const all = this.deps.replicas.candidates;
    let probesOfAll = 0;
    let awaited: Promise<ProbeResult>[] | null = null;
    for (let rank = 0; rank < usable; rank++) {
      const g = groups[rank]!;
      for (let i = 0; i < g.length; i++) {
        const id = g[i]!.replicaId;
        if (!this.deps.replicas.isRoutable(id)) continue;
        const q = this.deps.load.queueLen(id);
        if (q === undefined) {
          if (g !== all) {
            const p = this.deps.prober.probeOrJoin(id);
            if (p !== null) (awaited ??= []).push(p);
          } else if (!this.deps.prober.isPending(id) && probesOfAll++ < 2) void this.deps.prober.probe(id);
        } else if (q >= max) this.recheckIfForeign(id, q);
      }
    }
    if (awaited !== null) {
      req.probing = true;
      void Promise.all(awaited).then(() => {
        req.probing = false;
        if (req.state === RequestState.WAITING) {
          this.deps.waiting.remove(req);
          this.placeOrWait(req);
        }
      });
    }
  }

  /** A full replica whose slots are not all this handle's: its replies will not say when one frees. */
  recheckIfForeign(replicaId: string, queueLen: number): void {
    if (this.deps.load.inFlight(replicaId) < queueLen) this.deps.prober.recheckLater(replicaId);
  }
}
