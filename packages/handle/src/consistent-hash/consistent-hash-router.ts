import type { ReplicaInfo } from "@tsserve/protocol";
import { RequestRouter, type RouterContext, type RoutingRequest } from "../request-router.js";
import {
  resolveConsistentHashOptions,
  type ResolvedConsistentHashOptions,
} from "./consistent-hash-options.js";
import { HashRing } from "./hash-ring.js";

/**
 * Sessions whose ranks (or, with a load bound, ring start) a router remembers: about 100 KB at
 * most, whatever the traffic.
 */
const SESSION_STARTS_KEPT = 1024;

/**
 * Session-sticky routing on a MurmurHash3 ring, compatible with Ray Serve's `ConsistentHashRouter`:
 * given the same replica ids, a session lands on the same replica as in Ray.
 *
 * The key is the request's `sessionId`. Ray keys session-less requests by their own fresh request
 * id, which lands them on a uniformly random point of the 64-bit hash space; we draw that point
 * directly (same distribution over the same ring, without hashing a string per call, which made
 * session-less ConsistentHash traffic ~0.5 µs a call dearer than PowerOfTwo), and offer its owner
 * and the next replica clockwise as one group, so the handle picks the shorter queue of the two.
 * Sessions keep Ray's exact single-replica ranks. The owner is the first ring point with a hash strictly
 * greater than the key's; up to `numFallbackReplicas` further distinct replicas clockwise follow,
 * each in its own group (`[[owner], [fb1], [fb2]]`) so the handle tries them strictly in order
 * rather than picking the shortest queue among them, which would defeat stickiness.
 *
 * With `loadBound` set, ranks whose in-flight load (this handle's view) would exceed
 * ⌈loadBound × mean⌉ are skipped (consistent hashing with bounded loads, Mirrokni et al. 2018).
 */
export class ConsistentHashRouter extends RequestRouter {
  /** The validated kwargs. */
  readonly options: ResolvedConsistentHashOptions;
  private readonly ring: HashRing;
  // Candidate view cached by array identity: the handle passes the same (immutable) array until
  // membership or its dropped set changes, so the hot path skips re-indexing it.
  private cachedCandidates: readonly ReplicaInfo[] | null = null;
  private infoByIndex: (ReplicaInfo | undefined)[] = [];
  /** `[info]` of each candidate by ring index: the one-replica groups every rank list shares. */
  private singleByIndex: (ReplicaInfo[] | undefined)[] = [];
  private cachedLength = -1;
  private candidatesOnRing = 0;
  private loads = new Float64Array(0);
  private readonly sessionStarts = new Map<string, number>();
  /** Without a load bound a session's ranks depend only on the ring and the candidates: kept. */
  private readonly sessionRanks = new Map<string, ReplicaInfo[][]>();

  /** Throws a ConfigError on bad kwargs (see {@link ConsistentHashOptions}). */
  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
    this.options = resolveConsistentHashOptions(kwargs);
    this.ring = new HashRing(this.options.numVirtualNodes);
  }

  /** Ring points per replica. */
  get numVirtualNodes(): number {
    return this.options.numVirtualNodes;
  }

  /** Fallback ranks after the owner. */
  get numFallbackReplicas(): number {
    return this.options.numFallbackReplicas;
  }

  /** The load bound factor, or null when off. */
  get loadBound(): number | null {
    return this.options.loadBound;
  }

  /** Owner patience: sessions wait up to `spillAfterMs` for their owner; session-less calls never wait. */
  override spillAfterMs(request: RoutingRequest): number {
    return request.sessionId === null || request.sessionId === "" ? 0 : this.options.spillAfterMs;
  }

  /** Rebuilds the ring when (and only when) the set of replica ids changed. */
  override updateReplicas(replicas: readonly ReplicaInfo[]): void {
    super.updateReplicas(replicas);
    this.syncRing(replicas);
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][] {
    if (candidates.length === 0) return [];
    // Defensive: a handle that has not delivered membership yet still gets sticky ranks.
    if (this.ring.size === 0) this.syncRing(candidates);
    this.indexCandidates(candidates);
    if (this.candidatesOnRing === 0) {
      // Candidates the ring does not know (membership lagging): returning [] would stall the
      // request forever, so offer them all and let the queue lengths decide.
      return [[...candidates]];
    }
    const session = request.sessionId;
    if (session !== null && session !== "") {
      return this.options.loadBound === null
        ? this.sessionPlainRanks(session)
        : this.boundedRanks(this.sessionStart(session), this.options.loadBound);
    }
    const start = this.ring.startIndex(
      (Math.random() * 0x1_0000_0000) >>> 0,
      (Math.random() * 0x1_0000_0000) >>> 0,
    );
    const ranks = this.plainRanks(start);
    // No session, no affinity to keep: offer the owner and the next replica clockwise as one group,
    // so the handle takes the shorter queue of the two (power of two choices over the ring). Strict
    // single-replica ranks spread such traffic blind to load and cost ~10 % throughput.
    if (ranks.length >= 2) ranks.splice(0, 2, [ranks[0]![0]!, ranks[1]![0]!]);
    return ranks;
  }

  /**
   * Ray's ranking of `key` over every replica on the ring (no candidate filter, no load bound), as
   * replica ids. For tests, diagnostics and cross-language checks.
   */
  rankedReplicaIds(key: string): string[] {
    if (this.ring.size === 0) return [];
    return this.idsOf(this.ring.walk(this.ring.startIndexOfKey(key), 1 + this.options.numFallbackReplicas));
  }

  /**
   * @internal Like {@link rankedReplicaIds} for a raw 64-bit hash given as uint32 halves, so tests
   * can probe the hash-space boundaries (0 and 2^64−1) and the wrap past the last point.
   */
  rankedReplicaIdsForHash(hi: number, lo: number): string[] {
    if (this.ring.size === 0) return [];
    return this.idsOf(
      this.ring.walk(this.ring.startIndex(hi >>> 0, lo >>> 0), 1 + this.options.numFallbackReplicas),
    );
  }

  /** @internal The ring itself (read-only use), for tests and the bench. */
  get hashRing(): HashRing {
    return this.ring;
  }

  private idsOf(indexes: number[]): string[] {
    return indexes.map((r) => this.ring.ids[r]!);
  }

  /**
   * The ring index a session's walk starts at. Remembered for the last up to
   * {@link SESSION_STARTS_KEPT} sessions (a session's calls repeat: that is why it is sticky), so
   * its next call skips the 128-bit hash and the binary search; forgotten all at once when full
   * and whenever the ring changes, so the router holds a bounded amount per session seen.
   */
  private sessionStart(session: string): number {
    let start = this.sessionStarts.get(session);
    if (start === undefined) {
      start = this.ring.startIndexOfKey(session);
      if (this.sessionStarts.size >= SESSION_STARTS_KEPT) this.sessionStarts.clear();
      this.sessionStarts.set(session, start);
    }
    return start;
  }

  /**
   * A session's ranks without a load bound, remembered like {@link sessionStart} and forgotten
   * when the ring or the candidates change, so a session's next call allocates nothing. Shared
   * between that session's calls: read-only.
   */
  private sessionPlainRanks(session: string): ReplicaInfo[][] {
    let ranks = this.sessionRanks.get(session);
    if (ranks === undefined) {
      ranks = this.plainRanks(this.ring.startIndexOfKey(session));
      if (this.sessionRanks.size >= SESSION_STARTS_KEPT) this.sessionRanks.clear();
      this.sessionRanks.set(session, ranks);
    }
    return ranks;
  }

  private syncRing(replicas: readonly ReplicaInfo[]): void {
    const t0 = performance.now();
    if (this.ring.rebuild(replicas.map((r) => r.replicaId))) {
      this.sessionStarts.clear();
      this.sessionRanks.clear();
      this.cachedCandidates = null;
      if (this.loads.length < this.ring.ids.length) this.loads = new Float64Array(this.ring.ids.length);
      this.context.reportRebuild?.(performance.now() - t0);
    }
  }

  private indexCandidates(candidates: readonly ReplicaInfo[]): void {
    if (candidates === this.cachedCandidates && candidates.length === this.cachedLength) return;
    const infos: (ReplicaInfo | undefined)[] = new Array<ReplicaInfo | undefined>(this.ring.ids.length);
    const singles: (ReplicaInfo[] | undefined)[] = new Array<ReplicaInfo[] | undefined>(this.ring.ids.length);
    let onRing = 0;
    for (const c of candidates) {
      const r = this.ring.indexOf(c.replicaId);
      if (r >= 0 && infos[r] === undefined) {
        infos[r] = c;
        singles[r] = [c];
        onRing++;
      }
    }
    this.infoByIndex = infos;
    this.singleByIndex = singles;
    this.sessionRanks.clear();
    this.candidatesOnRing = onRing;
    this.cachedCandidates = candidates;
    this.cachedLength = candidates.length;
  }

  /** Ray's ranks: distinct replicas clockwise, skipping non-candidates but walking on past them. */
  private plainRanks(start: number): ReplicaInfo[][] {
    const ring = this.ring;
    const n = ring.owner.length;
    const want = Math.min(1 + this.options.numFallbackReplicas, this.candidatesOnRing);
    const total = ring.ids.length;
    const out: ReplicaInfo[][] = [];
    ring.beginWalk();
    let seen = 0;
    for (let s = 0, p = start; s < n; s++, p = p + 1 === n ? 0 : p + 1) {
      const r = ring.owner[p]!;
      if (!ring.markSeen(r)) continue;
      const single = this.singleByIndex[r];
      if (single !== undefined && out.push(single) === want) break;
      if (++seen === total) break;
    }
    return out;
  }

  /**
   * Bounded-load ranks: the first 1+K candidates clockwise whose load is below the bound, then, if
   * too few qualify, the skipped ones in ring order so the handle still has somewhere to go.
   */
  private boundedRanks(start: number, loadBound: number): ReplicaInfo[][] {
    const ring = this.ring;
    const loads = this.loads;
    let totalLoad = 0;
    for (let r = 0; r < ring.ids.length; r++) {
      const info = this.infoByIndex[r];
      const l = info === undefined ? 0 : this.context.inFlight(info.replicaId);
      loads[r] = l;
      totalLoad += l;
    }
    // The +1 counts the request being placed, so an idle deployment has a bound of at least 1 and
    // some replica (one at or below the mean) always qualifies.
    const bound = Math.ceil((loadBound * (totalLoad + 1)) / this.candidatesOnRing);
    const want = Math.min(1 + this.options.numFallbackReplicas, this.candidatesOnRing);
    const out: ReplicaInfo[][] = [];
    const over: ReplicaInfo[][] = [];
    const n = ring.owner.length;
    ring.beginWalk();
    let seen = 0;
    for (let s = 0, p = start; s < n; s++, p = p + 1 === n ? 0 : p + 1) {
      const r = ring.owner[p]!;
      if (!ring.markSeen(r)) continue;
      const info = this.infoByIndex[r];
      if (info !== undefined) {
        const single = this.singleByIndex[r]!;
        // Placing this request must keep the replica within the bound.
        if (loads[r]! < bound) {
          if (out.push(single) === want) break;
        } else if (over.length < want) {
          over.push(single);
        }
      }
      if (++seen === ring.ids.length) break;
    }
    for (let i = 0; out.length < want && i < over.length; i++) out.push(over[i]!);
    return out;
  }
}
