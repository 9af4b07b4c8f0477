import type { ReplicaInfo } from "@tsserve/protocol";
import { RequestState, type PendingRequest } from "../pending-request.js";
import type { ProbeResult } from "../replica-transport.js";
import { OwnerPatience } from "./owner-patience.js";
import type { ReplicaLoad } from "./replica-load.js";
import type { ReplicaProber } from "./replica-prober.js";
import type { ReplicaSet } from "./replica-set.js";
import { WaitList } from "./wait-index.js";
import { listSpills, listWaiting } from "./wait-tickets.js";
import type { WaitingCalls } from "./waiting-calls.js";
import { chooseGroups, modelPatienceMs } from "../multiplex/model-routing.js";

/** What the {@link SlotAssigner} works on, owned by the dispatcher. */
export interface SlotAssignerDeps {
  replicas: ReplicaSet;
  load: ReplicaLoad;
  prober: ReplicaProber;
  waiting: WaitingCalls;
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
 *
 * Each waiting call is listed per replica it may use (a {@link WaitIndex} of the replica-set
 * version it was listed at), so a freed slot or a spill check costs O(1) however many calls wait
 * for other replicas; a change of the replica set lists every waiting call again, oldest first.
 */
export class SlotAssigner {
  private readonly patience: OwnerPatience;
  private readonly routable = (id: string): boolean => this.deps.replicas.isRoutable(id);
  /** The replica-set version the wait lists hold. */
  private listedVersion = -1;

  constructor(private readonly deps: SlotAssignerDeps) {
    this.patience = new OwnerPatience(deps.now, (req) => this.patienceEnded(req));
  }

  /** A call ended: the owner-patience FIFO no longer holds it. */
  forget(req: PendingRequest): void {
    if (req.patienceAt >= 0) this.patience.forget(req);
  }

  /** Stops the patience timer. */
  close(): void {
    this.patience.close();
  }

  /** Sends `req` now if a replica it may use has a free slot; otherwise it waits (in arrival order). */
  placeOrWait(req: PendingRequest): void {
    if (this.place(req)) return;
    this.deps.waiting.insertByAge(req);
    this.list(req);
  }

  /** Lists a waiting call in the wait lists of the replicas it may use (none until it has groups). */
  private list(req: PendingRequest): void {
    if (this.deps.replicas.config === null || req.groupsVersion !== this.deps.replicas.version) return;
    this.syncLists();
    listWaiting(this.deps.waiting.index, req, this.deps.replicas.candidates);
  }

  /** Lists of an older replica set are dropped; the change's `dispatchAll` lists every call again. */
  private syncLists(): void {
    const version = this.deps.replicas.version;
    if (this.listedVersion === version) return;
    this.listedVersion = version;
    this.deps.waiting.index.reset();
  }

  /** A waiting call's owner patience ended: it may take a later group's slot now, or wait for one. */
  private patienceEnded(req: PendingRequest): void {
    if (this.place(req) || req.groupsVersion !== this.deps.replicas.version) return;
    this.syncLists();
    listSpills(this.deps.waiting.index, req, this.deps.replicas.candidates);
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
    // The first group may always take the call: owner patience (and its timer entry) matters only
    // when it is full, so a call sent at once never touches it.
    if (groups.length > 0 && this.tryRank(req, groups, 0, max)) return true;
    const usable = this.usableRanks(req, groups);
    for (let rank = 1; rank < usable; rank++) if (this.tryRank(req, groups, rank, max)) return true;
    this.seekRoom(req, groups, usable, max);
    return false;
  }

  /** Sends `req` to the best free replica of `groups[rank]` if it may take it; true when sent. */
  private tryRank(req: PendingRequest, groups: ReplicaInfo[][], rank: number, max: number): boolean {
    const g = groups[rank]!;
    const id = this.deps.load.bestFree(g, max, this.routable);
    if (id === null || (rank > 0 && req.spillAt !== 0 && this.ownerWaits(id))) return false;
    this.deps.send(req, id, rank);
    // Learn the rest of the group for the next call (Ray probes the group it chooses from).
    if (g.length > 1 && this.deps.load.sawUnknown && g !== this.deps.replicas.candidates)
      this.probeUnknown(g);
    return true;
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
   * The replica's wait lists give each next call at once, so this costs O(1) per slot given.
   */
  dispatchTo(replicaId: string): void {
    const config = this.deps.replicas.config;
    if (this.deps.waiting.size === 0 || config === null || !this.deps.replicas.isRoutable(replicaId)) return;
    this.syncLists();
    const max = config.maxOngoingRequests;
    if (this.serve(replicaId, max, WaitList.FIRST)) this.serve(replicaId, max, WaitList.SPILL);
  }

  /** Sends `list`'s oldest calls to `replicaId` while it has free slots; true when slots are left. */
  private serve(replicaId: string, max: number, list: WaitList): boolean {
    const index = this.deps.waiting.index;
    while (this.deps.load.free(replicaId, max) > 0) {
      const req = index.oldest(replicaId, list);
      if (req === null) return true;
      const rank = this.rankOf(req, replicaId);
      // Cannot happen (a call is listed only for replicas it may use); never loop on it.
      if (rank < 0) index.remove(req);
      else this.deps.send(req, replicaId, rank);
    }
    return false;
  }

  /** True when a waiting call with owner patience has `replicaId` in its first group. */
  private ownerWaits(replicaId: string): boolean {
    this.syncLists();
    return this.deps.waiting.index.ownerWaits(replicaId);
  }

  /**
   * Offers every waiting call, oldest first, whatever is free (after a change of the replica set),
   * and lists those left waiting again, oldest first: O(1) each.
   */
  dispatchAll(): void {
    this.listedVersion = this.deps.replicas.version;
    this.deps.waiting.index.reset();
    for (let req = this.deps.waiting.head; req !== null;) {
      const next = req.qNext;
      if (!this.place(req) && req.state === RequestState.WAITING) this.list(req);
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
