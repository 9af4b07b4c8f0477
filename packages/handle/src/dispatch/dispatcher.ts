import {
  BackPressureError,
  DEFAULT_MAX_RETRIES,
  encodeRequest,
  errorFromWire,
  ReplicaDiedError,
  ReplyKind,
  RequestCancelledError,
  RequestTimeoutError,
  type ReplicaInfo,
  type Reply,
  type RequestRouterConfig,
  type RoutingConfig,
} from "@tsserve/protocol";
import { backoffDelayMs } from "../backoff.js";
import type { MembershipSource } from "../membership/membership-source.js";
import type { HandleMetricsSink } from "../metrics-sink.js";
import { PendingRequest, RequestState, type ReplyHandler, type ResultSink } from "../pending-request.js";
import type { DeploymentTransport, ProbeResult } from "../replica-transport.js";
import type { RequestRouter, RouterContext } from "../request-router.js";
import { OwnerPatience } from "./owner-patience.js";
import { ReplicaLoad } from "./replica-load.js";
import { ReplicaProber } from "./replica-prober.js";
import { ReplicaSet } from "./replica-set.js";
import { WaitQueue } from "./wait-queue.js";

/** Timed-out probes in a row (of a replica with calls in flight) that take it out of routing. */
export const UNREACHABLE_DROP_PROBES = 2;
/** Timed-out probes in a row after which its calls in flight fail (or retry, when idempotent). */
export const UNREACHABLE_FAIL_PROBES = 3;

/** Options of a {@link DeploymentDispatcher}. */
export interface DispatcherOptions {
  app: string;
  deployment: string;
  /** Where the replica set and routing config come from. */
  membership: MembershipSource;
  /** The data plane bound to this deployment. */
  transport: DeploymentTransport;
  /** Makes a unique request id (the client's id plus a counter). */
  newRequestId: () => string;
  metrics?: HandleMetricsSink | undefined;
  /** Directory custom router module paths resolve from. */
  cwd?: string | undefined;
  /** Clock in milliseconds (monotonic); tests may replace it. @default performance.now */
  now?: () => number;
  /** Builds the router a config names. @default the router registry */
  createRouter?: (
    config: Required<RequestRouterConfig>,
    context: RouterContext,
    cwd?: string,
  ) => Promise<RequestRouter>;
}

/** What a call asks for; see `HandleCallOptions`. */
export interface SubmitOptions {
  method: string;
  sessionId: string | null;
  stream: boolean;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Sends one deployment's calls to its replicas (docs/design.md §4), shared by every handle of that
 * deployment in a client.
 *
 * A call is sent at once when a replica of its ranked groups has a free slot (as far as this handle
 * knows: replies and probes carry queue lengths, +1 per send). Otherwise it waits in a FIFO queue,
 * and each slot that frees goes at once to the oldest waiting call that may use that replica, so a
 * call is never overtaken by a younger one that could use the same replica and no call sleeps
 * while a slot is idle. Probes and backoff remain only for what replies cannot tell: replicas
 * without a fresh number, and full replicas whose slots other handles hold. Owner patience (the
 * router's `spillAfterMs`) holds a sticky call on its first group for a while before later groups
 * may take it.
 *
 * Invariant after every event: no waiting call may use a replica this handle believes has a free
 * slot. Each event that can break it (a slot freed, a patience ended, the replica set changed)
 * re-dispatches, which is why a new call may go straight out without looking at the queue.
 */
export class DeploymentDispatcher implements ReplyHandler {
  readonly app: string;
  readonly deployment: string;
  /** `app/deployment`, for messages. */
  readonly label: string;
  private readonly transport: DeploymentTransport;
  private readonly newRequestId: () => string;
  private readonly metrics: HandleMetricsSink | undefined;
  private readonly now: () => number;
  private readonly replicas: ReplicaSet;
  private readonly load: ReplicaLoad;
  private readonly prober: ReplicaProber;
  private readonly patience: OwnerPatience;
  private readonly waiting = new WaitQueue<PendingRequest>();
  private readonly live = new Set<PendingRequest>();
  private closedError: Error | null = null;
  private readonly routableId = (id: string): boolean => this.replicas.isRoutable(id);
  private readonly onTimeout = (req: PendingRequest): void =>
    this.finish(
      req,
      new RequestTimeoutError(
        `request ${req.requestId} to ${this.label} timed out after ${req.timeoutMs} ms`,
        {
          data: { timeoutMs: req.timeoutMs },
        },
      ),
    );

  constructor(options: DispatcherOptions) {
    this.app = options.app;
    this.deployment = options.deployment;
    this.label = `${options.app}/${options.deployment}`;
    this.transport = options.transport;
    this.newRequestId = options.newRequestId;
    this.metrics = options.metrics;
    this.now = options.now ?? performance.now.bind(performance);
    this.load = new ReplicaLoad(this.now);
    const context = this.routerContext();
    this.replicas = new ReplicaSet(
      { membership: options.membership, context, cwd: options.cwd, createRouter: options.createRouter },
      { changed: () => this.replicasChanged(), failWaiting: (e) => this.failWaiting(e) },
    );
    this.prober = new ReplicaProber(this.transport, {
      answered: (id, q) => this.answered(id, q),
      gone: (id) => this.replicaDied(id),
      timedOut: (id, n) => this.probeTimedOut(id, n),
      wanted: () => this.waiting.size > 0,
    });
    this.patience = new OwnerPatience(this.now, (req) => this.placeOrWait(req));
  }

  /** Calls waiting for a slot (what `maxQueuedRequests` limits). */
  get queued(): number {
    return this.waiting.size;
  }

  /** Calls sent and not yet answered. */
  get inFlightTotal(): number {
    return this.load.inFlightTotal;
  }

  /** Every call from submit to its end. */
  get pendingCount(): number {
    return this.live.size;
  }

  /** Routing config of the last membership update; null until the first. */
  get config(): RoutingConfig | null {
    return this.replicas.config;
  }

  /** True when calls may go to `replicaId` (listed by the membership and not dropped here). */
  isRoutable(replicaId: string): boolean {
    return this.replicas.isRoutable(replicaId);
  }

  /** The queue length this handle believes `replicaId` has; undefined when unknown or stale. */
  queueLength(replicaId: string): number | undefined {
    return this.load.queueLen(replicaId);
  }

  /** The replicas calls may go to now (membership minus the ones this handle dropped). */
  get candidates(): readonly ReplicaInfo[] {
    return this.replicas.candidates;
  }

  /**
   * Starts a call. Returns the pending request, or null when it was refused at once (back-pressure,
   * already-aborted signal, closed client, unencodable arguments): `sink` has then been rejected.
   */
  submit(args: unknown[], o: SubmitOptions, sink: ResultSink): PendingRequest | null {
    if (this.closedError !== null) return refuse(sink, this.closedError);
    this.replicas.start();
    const max = this.replicas.config?.maxQueuedRequests ?? -1;
    if (max !== -1 && this.waiting.size >= max)
      return refuse(sink, new BackPressureError(this.waiting.size, max, this.label));
    if (o.signal?.aborted) return refuse(sink, new RequestCancelledError());
    const retired = this.replicas.retired;
    if (retired !== null) return refuse(sink, retired);
    const req = new PendingRequest(
      this.newRequestId(),
      o.method,
      args,
      o.sessionId,
      o.stream,
      this.now(),
      sink,
      this,
      o.signal,
    );
    try {
      req.body = encodeRequest(req);
    } catch (e) {
      return refuse(sink, e instanceof Error ? e : new Error(String(e)));
    }
    this.live.add(req);
    if (o.timeoutMs > 0) {
      req.timeoutMs = o.timeoutMs;
      req.timer = setTimeout(this.onTimeout, o.timeoutMs, req);
    }
    if (o.signal !== undefined) {
      req.abortListener = () => this.finish(req, new RequestCancelledError());
      o.signal.addEventListener("abort", req.abortListener, { once: true });
    }
    this.placeOrWait(req);
    return req;
  }

  /** Ends a call with `error` (RequestCancelledError by default); a no-op once it is done. */
  cancel(req: PendingRequest, error: Error = new RequestCancelledError()): void {
    this.finish(req, error);
  }

  /** ReplyHandler: interprets one reply of a sent request. */
  handleReply(req: PendingRequest, reply: Reply | null): void {
    if (req.state !== RequestState.SENT) return;
    const id = req.replicaId!;
    if (reply === null) {
      // No responders: the request reached nobody, so it is safe to send elsewhere.
      this.release(req);
      const changed = this.dropReplica(id);
      this.requeue(req);
      if (changed) this.dispatchAll();
      return;
    }
    const kind = reply.kind;
    const ends =
      kind === ReplyKind.OK ||
      kind === ReplyKind.ERROR ||
      kind === ReplyKind.REJECTED ||
      kind === ReplyKind.STREAM_END;
    if (ends) this.release(req);
    if (reply.queueLen >= 0 && this.replicas.isRoutable(id)) this.learn(id, reply.queueLen);
    switch (kind) {
      case ReplyKind.ACCEPTED:
        req.acked = true;
        return;
      case ReplyKind.REJECTED:
        this.metrics?.requestRejected?.(this.app, this.deployment, id);
        this.requeue(req);
        break;
      case ReplyKind.OK:
        req.acked = true;
        this.accepted(req, id);
        this.finish(req, null, reply.value);
        break;
      case ReplyKind.ERROR:
        if (reply.queueLen >= 0) this.accepted(req, id);
        this.finish(req, errorFromWire(reply.error));
        break;
      case ReplyKind.STREAM_START:
        req.acked = true;
        this.accepted(req, id);
        return;
      case ReplyKind.CHUNK:
        req.sink.chunk(reply.value);
        return;
      case ReplyKind.STREAM_END:
        this.finish(req, null, undefined);
        break;
      case ReplyKind.QUEUE_LEN:
        return;
    }
    this.dispatchTo(id);
  }

  /** Replicas with a call of this handle in flight for at least `minAgeMs` (the liveness sweep's suspects). */
  busyReplicas(minAgeMs: number): Set<string> | null {
    if (this.load.inFlightTotal === 0) return null;
    const now = this.now();
    let out: Set<string> | null = null;
    for (const req of this.live) {
      if (req.state === RequestState.SENT && now - req.sentAt >= minAgeMs)
        (out ??= new Set()).add(req.replicaId!);
    }
    return out;
  }

  /** Probes a replica (one probe per replica at a time); no-responders fails its calls with ReplicaDiedError. */
  probe(replicaId: string, deadlineMs?: number): Promise<ProbeResult> {
    return this.prober.probe(replicaId, deadlineMs);
  }

  /**
   * The replica is gone (no responders): it is dropped, and each call in flight there is sent
   * elsewhere if the replica never acknowledged it (it never reached the replica), retried if its
   * method is idempotent, and failed with ReplicaDiedError otherwise.
   */
  replicaDied(replicaId: string): void {
    this.replicaLost(replicaId, true);
  }

  private replicaLost(replicaId: string, dead: boolean): void {
    const changed = this.dropReplica(replicaId);
    for (const req of [...this.live]) {
      if (req.state !== RequestState.SENT || req.replicaId !== replicaId) continue;
      // An unreachable replica may still hold a call it did not acknowledge yet: only a dead
      // one proves that an unacknowledged call never reached it.
      if (dead && !req.acked) {
        this.release(req);
        this.requeue(req);
      } else if (this.mayRetry(req)) this.retryLater(req);
      else {
        const how = dead ? "was lost" : "stopped answering";
        this.finish(
          req,
          new ReplicaDiedError(
            `replica ${replicaId} of ${this.label} ${how} while running request ${req.requestId}; it may or may not have run`,
            { data: { replicaId, requestId: req.requestId, unreachable: !dead } },
          ),
        );
      }
    }
    if (changed) this.dispatchAll();
  }

  /** An idempotent unary call with retries left (a stream may have delivered chunks already). */
  private mayRetry(req: PendingRequest): boolean {
    const config = this.replicas.config;
    if (config === null || req.stream) return false;
    const idempotent = config.idempotent ?? false;
    if (idempotent !== true && !(Array.isArray(idempotent) && idempotent.includes(req.method))) return false;
    return req.retries < (config.maxRetries ?? DEFAULT_MAX_RETRIES);
  }

  /** Sends an idempotent call again after a backoff (25 ms doubling), to what is left. */
  private retryLater(req: PendingRequest): void {
    this.release(req);
    req.exchange?.close();
    req.exchange = null;
    req.state = RequestState.WAITING;
    req.acked = false;
    req.retryTimer = setTimeout(() => {
      req.retryTimer = null;
      if (req.state === RequestState.WAITING) this.placeOrWait(req);
    }, backoffDelayMs(req.retries++));
  }

  /** Fails every pending call with `error` and stops following membership. */
  close(error: Error): void {
    this.closedError = error;
    for (const req of [...this.live]) this.finish(req, error);
    this.replicas.close();
    this.prober.close();
    this.patience.close();
  }

  /**
   * Ends a call exactly once: releases its timer, signal listener, reply channel and slot, then
   * settles the caller's response. A slot given up without a reply (timeout, cancellation) is
   * guessed free and offered to the next waiting call.
   */
  private finish(req: PendingRequest, error: Error | null, value?: unknown): void {
    if (req.state === RequestState.DONE) return;
    const wasSent = req.state === RequestState.SENT;
    req.state = RequestState.DONE;
    this.live.delete(req);
    this.waiting.remove(req);
    if (req.timer !== null) clearTimeout(req.timer);
    if (req.retryTimer !== null) clearTimeout(req.retryTimer);
    if (req.abortListener !== null) req.signal?.removeEventListener("abort", req.abortListener);
    let guessedFree: string | null = null;
    if (wasSent) {
      const id = req.replicaId!;
      req.exchange?.close();
      req.exchange = null;
      if (req.holdsSlot) {
        req.holdsSlot = false;
        this.load.released(id, true);
        guessedFree = id;
      }
      try {
        this.replicas.router?.onRequestCompleted?.(req, id);
      } catch {
        // A router hook must not break request bookkeeping.
      }
    }
    const outcome = error === null ? "ok" : ((error as { code?: string }).code ?? "INTERNAL");
    this.metrics?.requestCompleted?.(this.app, this.deployment, this.now() - req.createdAt, outcome);
    if (error === null) req.sink.resolve(value);
    else req.sink.reject(error);
    if (guessedFree !== null) this.dispatchTo(guessedFree);
  }

  /** Sends `req` now if a replica it may use has a free slot; otherwise it waits (in arrival order). */
  private placeOrWait(req: PendingRequest): void {
    if (!this.place(req)) this.waiting.insertByAge(req);
  }

  /** Tries to send `req`; true when it left the queue (sent, or failed by its router). */
  private place(req: PendingRequest): boolean {
    const routerError = this.replicas.routerError;
    if (routerError !== null) {
      this.finish(req, routerError);
      return true;
    }
    const config = this.replicas.config;
    const groups = this.groupsOf(req);
    if (groups === null || config === null) return req.state === RequestState.DONE;
    const max = config.maxOngoingRequests;
    const usable = this.usableRanks(req, groups);
    for (let rank = 0; rank < usable; rank++) {
      const g = groups[rank]!;
      const id = this.load.bestFree(g, max, this.routableId);
      if (id !== null && (rank === 0 || req.spillAt === 0 || !this.ownerWaits(id))) {
        this.send(req, id, rank);
        // Learn the rest of the group for the next call (Ray probes the group it chooses from).
        if (g.length > 1 && g !== this.replicas.candidates) this.probeUnknown(g);
        return true;
      }
    }
    this.seekRoom(req, groups, usable, max);
    return false;
  }

  private probeUnknown(group: readonly ReplicaInfo[]): void {
    for (let i = 0; i < group.length; i++) {
      const id = group[i]!.replicaId;
      if (this.load.queueLen(id) === undefined && !this.prober.isPending(id) && this.replicas.isRoutable(id))
        void this.prober.probe(id);
    }
  }

  /**
   * Every slot free on `replicaId` goes to the oldest waiting calls that may use it. A call whose
   * owner patience ran out takes a fallback's slot only when no call waits for that replica as its
   * own first choice: spills use spare capacity, they do not push other sessions off their owner.
   */
  private dispatchTo(replicaId: string): void {
    const config = this.replicas.config;
    if (this.waiting.size === 0 || config === null || !this.replicas.isRoutable(replicaId)) return;
    const max = config.maxOngoingRequests;
    let spills: PendingRequest[] | null = null;
    for (let req = this.waiting.head; req !== null && this.load.free(replicaId, max) > 0;) {
      const next = req.qNext;
      const rank = req.probing ? -1 : this.rankOf(req, replicaId);
      if (rank > 0 && req.spillAt > 0) (spills ??= []).push(req);
      else if (rank >= 0) this.send(req, replicaId, rank);
      req = next;
    }
    if (spills === null) return;
    for (const req of spills) {
      if (this.load.free(replicaId, max) === 0) return;
      if (req.state === RequestState.WAITING) this.send(req, replicaId, this.rankOf(req, replicaId));
    }
  }

  /** True when a waiting call with owner patience has `replicaId` in its first group. */
  private ownerWaits(replicaId: string): boolean {
    for (let w = this.waiting.head; w !== null; w = w.qNext) {
      if (w.spillAt === 0 || w.groups === null || w.groupsVersion !== this.replicas.version) continue;
      const g = w.groups[0];
      if (g !== undefined) for (let i = 0; i < g.length; i++) if (g[i]!.replicaId === replicaId) return true;
    }
    return false;
  }

  /** Offers every waiting call, oldest first, whatever is free (after a change of the replica set). */
  private dispatchAll(): void {
    for (let req = this.waiting.head; req !== null;) {
      const next = req.qNext;
      this.place(req);
      req = next;
    }
  }

  /** The rank through which `req` may use `replicaId` now, or -1. */
  private rankOf(req: PendingRequest, replicaId: string): number {
    const groups = this.groupsOf(req);
    if (groups === null) return -1;
    const all = this.replicas.candidates;
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
    const version = this.replicas.version;
    if (req.groups !== null && req.groupsVersion === version) return req.groups;
    const router = this.replicas.router;
    const candidates = this.replicas.candidates;
    if (router === null || candidates.length === 0) return null;
    try {
      req.groups = router.chooseReplicas(candidates, req);
    } catch (e) {
      this.finish(req, e instanceof Error ? e : new Error(String(e)));
      return null;
    }
    req.groupsVersion = version;
    return req.groups;
  }

  /** How many of `req`'s groups may take it now: only the first while owner patience lasts. */
  private usableRanks(req: PendingRequest, groups: ReplicaInfo[][]): number {
    if (groups.length <= 1 || req.patienceOver) return groups.length;
    if (req.spillAt === 0) {
      const ms = this.replicas.router!.spillAfterMs(req);
      if (!(ms > 0) || this.now() - req.createdAt >= ms) {
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
    const all = this.replicas.candidates;
    let probesOfAll = 0;
    let awaited: Promise<ProbeResult>[] | null = null;
    for (let rank = 0; rank < usable; rank++) {
      const g = groups[rank]!;
      for (let i = 0; i < g.length; i++) {
        const id = g[i]!.replicaId;
        if (!this.replicas.isRoutable(id)) continue;
        const q = this.load.queueLen(id);
        if (q === undefined) {
          if (g !== all) {
            const p = this.prober.probeOrJoin(id);
            if (p !== null) (awaited ??= []).push(p);
          } else if (!this.prober.isPending(id) && probesOfAll++ < 2) void this.prober.probe(id);
        } else if (q >= max) this.recheckIfForeign(id, q);
      }
    }
    if (awaited !== null) {
      req.probing = true;
      void Promise.all(awaited).then(() => {
        req.probing = false;
        if (req.state === RequestState.WAITING) {
          this.waiting.remove(req);
          this.placeOrWait(req);
        }
      });
    }
  }

  /** A full replica whose slots are not all this handle's: its replies will not say when one frees. */
  private recheckIfForeign(replicaId: string, queueLen: number): void {
    if (this.load.inFlight(replicaId) < queueLen) this.prober.recheckLater(replicaId);
  }

  private send(req: PendingRequest, replicaId: string, rank: number): void {
    this.waiting.remove(req);
    req.state = RequestState.SENT;
    req.replicaId = replicaId;
    req.rank = rank;
    req.sentAt = this.now();
    req.holdsSlot = true;
    this.load.sent(replicaId);
    req.exchange = this.transport.send(replicaId, req.body!, req);
  }

  /** A sent call comes back (rejected, or it reached nobody): it keeps its place by age. */
  private requeue(req: PendingRequest): void {
    req.exchange?.close();
    req.exchange = null;
    req.state = RequestState.WAITING;
    this.placeOrWait(req);
  }

  /** The call's slot is free again (its replica answered or never got it). */
  private release(req: PendingRequest): void {
    if (!req.holdsSlot) return;
    req.holdsSlot = false;
    this.load.released(req.replicaId!, false);
  }

  private learn(replicaId: string, queueLen: number): void {
    const q = this.load.learn(replicaId, queueLen);
    if (q < (this.replicas.config?.maxOngoingRequests ?? 0)) this.prober.resetBackoff(replicaId);
    this.metrics?.queueLength?.(this.app, this.deployment, replicaId, queueLen);
  }

  private answered(replicaId: string, queueLen: number): void {
    // An answer from a replica removed meanwhile is ignored (Ray: test_replica_responds_after_being_removed).
    if (!this.replicas.isRoutable(replicaId)) return;
    this.learn(replicaId, queueLen);
    this.dispatchTo(replicaId);
    const q = this.load.queueLen(replicaId) ?? 0;
    if (this.waiting.size > 0 && q >= (this.replicas.config?.maxOngoingRequests ?? 0)) {
      this.recheckIfForeign(replicaId, q);
    }
  }

  /**
   * A probe got no answer in time. With calls of this handle in flight there, two liveness probes
   * (1 s deadline) in a row unanswered take the replica out of routing (until the membership lists
   * it again) and three fail those calls (ReplicaDiedError, or a retry when idempotent): an
   * unreachable machine or a stopped process must not hold calls until NATS gives up on it.
   * Otherwise keep asking while someone waits.
   */
  private probeTimedOut(replicaId: string, silentSeconds: number): void {
    if (this.load.inFlight(replicaId) > 0 && silentSeconds > 0) {
      if (silentSeconds >= UNREACHABLE_FAIL_PROBES) this.replicaLost(replicaId, false);
      else if (silentSeconds >= UNREACHABLE_DROP_PROBES && this.dropReplica(replicaId)) this.dispatchAll();
      return;
    }
    if (this.waiting.size > 0 && this.replicas.isRoutable(replicaId)) this.prober.recheckLater(replicaId);
  }

  private accepted(req: PendingRequest, id: string): void {
    // Once per request: a stream that fails after STREAM_START was already counted as routed.
    if (req.accepted) return;
    req.accepted = true;
    try {
      this.replicas.router?.onRequestRouted?.(req, id);
    } catch {
      // A router hook must not break request bookkeeping.
    }
    this.metrics?.requestRouted?.(this.app, this.deployment, id, req.rank);
  }

  private dropReplica(replicaId: string): boolean {
    this.load.forget(replicaId);
    return this.replicas.drop(replicaId);
  }

  private replicasChanged(): void {
    this.load.prune(this.replicas.routable);
    this.prober.prune(this.replicas.routable);
    this.dispatchAll();
  }

  private failWaiting(error: Error): void {
    for (const req of this.waiting.toArray()) this.finish(req, error);
  }

  private routerContext(): RouterContext {
    const replicas = (): ReplicaSet => this.replicas;
    const load = this.load;
    const metrics = this.metrics;
    const { app, deployment } = this;
    return {
      app,
      deployment,
      get maxOngoingRequests() {
        return replicas().config?.maxOngoingRequests ?? 0;
      },
      inFlight: (replicaId) => load.inFlight(replicaId),
      reportRebuild: (ms) => metrics?.routerRebuilt?.(app, deployment, ms),
    };
  }
}

function refuse(sink: ResultSink, error: Error): null {
  sink.reject(error);
  return null;
}
