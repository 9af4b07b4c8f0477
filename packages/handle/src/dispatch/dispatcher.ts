import {
  BackPressureError,
  ReplicaDiedError,
  RequestCancelledError,
  RequestTimeoutError,
  type ReplicaInfo,
} from "@tsserve/protocol";
import {
  encodeRequest,
  errorFromWire,
  ReplyKind,
  type Reply,
  type RoutingConfig,
} from "@tsserve/protocol/internal";
import type { HandleMetricsSink } from "../metrics-sink.js";
import { PendingRequest, RequestState, type ReplyHandler, type ResultSink } from "../pending-request.js";
import type { DeploymentTransport, ProbeResult } from "../replica-transport.js";
import { modelRouted, routingKeys } from "../multiplex/dispatch-models.js";
import { LiveCalls } from "./live-calls.js";
import { ReplicaLoad } from "./replica-load.js";
import { ReplicaProber } from "./replica-prober.js";
import { ReplicaSet } from "./replica-set.js";
import { mayRetry, retryLater } from "./retry-policy.js";
import { routerContext } from "./router-context.js";
import { SlotAssigner } from "./slot-assigner.js";
import {
  UNREACHABLE_DROP_PROBES,
  UNREACHABLE_FAIL_PROBES,
  type DispatcherOptions,
  type SubmitOptions,
} from "./types.js";
import { WaitingCalls } from "./waiting-calls.js";

export { UNREACHABLE_DROP_PROBES, UNREACHABLE_FAIL_PROBES, type DispatcherOptions, type SubmitOptions };

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
  private readonly requestIdPrefix: string;
  private readonly metrics: HandleMetricsSink | undefined;
  private readonly now: () => number;
  private readonly replicas: ReplicaSet;
  private readonly load: ReplicaLoad;
  private readonly prober: ReplicaProber;
  private readonly slots: SlotAssigner;
  private readonly waiting: WaitingCalls;
  private readonly live = new LiveCalls();
  private closedError: Error | null = null;
  /** The clock reading of the submit or reply being handled now, or -1 (see the constructor's `now`). */
  private eventAt = -1;
  private readonly clock: () => number;
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
    this.requestIdPrefix = options.requestIdPrefix;
    this.metrics = options.metrics;
    const clock = (this.clock = options.now ?? performance.now.bind(performance));
    // One clock reading per submit and per reply: what each decides, learns and sends happens at
    // the same instant (a reply read the clock up to four times: learn, the freed slot's free
    // check, the next call's send and its own).
    this.now = () => (this.eventAt >= 0 ? this.eventAt : clock());
    this.load = new ReplicaLoad(this.now);
    const queued = this.metrics?.queuedChanged?.bind(this.metrics);
    this.waiting = new WaitingCalls(
      queued === undefined ? undefined : (n) => queued(this.app, this.deployment, n),
    );
    const context = routerContext(this.app, this.deployment, () => this.replicas, this.load, this.metrics);
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
    this.slots = new SlotAssigner({
      replicas: this.replicas,
      load: this.load,
      prober: this.prober,
      waiting: this.waiting,
      now: this.now,
      send: (req, id, rank) => this.send(req, id, rank),
      finish: (req, error) => this.finish(req, error),
    });
  }

  /** Calls waiting for a slot (what `maxQueuedRequests` limits). */
  get queued(): number {
    return this.waiting.size;
  }

  /** @internal Wait-list entries examined by dispatch so far: tests check its cost by it. */
  get waitVisits(): number {
    return this.waiting.index.visited;
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
      this.requestIdPrefix,
      o.method,
      args,
      o.sessionId,
      o.stream,
      this.now(),
      sink,
      this,
      o.signal,
    );
    if (o.http !== undefined) req.http = o.http;
    if (o.json === true) req.json = true;
    routingKeys(req, o);
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
    const outer = this.eventAt;
    this.eventAt = req.createdAt;
    try {
      this.slots.placeOrWait(req);
    } finally {
      this.eventAt = outer;
    }
    return req;
  }

  /** Ends a call with `error` (RequestCancelledError by default); a no-op once it is done. */
  cancel(req: PendingRequest, error: Error = new RequestCancelledError()): void {
    this.finish(req, error);
  }

  /** ReplyHandler: interprets one reply of a sent request. */
  handleReply(req: PendingRequest, reply: Reply | null): void {
    if (req.state !== RequestState.SENT) return;
    const outer = this.eventAt;
    if (outer < 0) this.eventAt = this.clock();
    try {
      this.onReply(req, reply);
    } finally {
      this.eventAt = outer;
    }
  }

  private onReply(req: PendingRequest, reply: Reply | null): void {
    const id = req.replicaId!;
    if (reply === null) {
      // No responders: the request reached nobody, so it is safe to send elsewhere.
      const changed = this.dropReplica(id);
      this.requeue(req);
      if (changed) this.slots.dispatchAll();
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
        this.accepted(req, id);
        this.finish(req, null, reply.value);
        break;
      case ReplyKind.ERROR:
        if (reply.queueLen >= 0) this.accepted(req, id);
        this.finish(req, errorFromWire(reply.error));
        break;
      case ReplyKind.STREAM_START:
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
    this.slots.dispatchTo(id);
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
    for (const req of this.live.oldestFirst()) {
      if (req.state !== RequestState.SENT || req.replicaId !== replicaId) continue;
      // An unreachable replica may still hold a call it did not acknowledge yet: only a dead
      // one proves that an unacknowledged call never reached it.
      if (dead && !req.acked) this.requeue(req);
      else if (mayRetry(this.replicas.config, req)) {
        // Sent again after a backoff (25 ms doubling), to what is left.
        this.takeBack(req);
        retryLater(req, (r) => this.slots.placeOrWait(r));
      } else {
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
    if (changed) this.slots.dispatchAll();
  }

  /** Fails every pending call with `error` and stops following membership. */
  close(error: Error): void {
    this.closedError = error;
    for (const req of this.live.oldestFirst()) this.finish(req, error);
    this.replicas.close();
    this.prober.close();
    this.slots.close();
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
    // A done call may stay referenced a while (owner patience's FIFO): not its request bytes.
    req.body = null;
    this.live.delete(req);
    this.waiting.remove(req);
    this.slots.forget(req);
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
    if (guessedFree !== null) this.slots.dispatchTo(guessedFree);
  }

  private send(req: PendingRequest, replicaId: string, rank: number): void {
    this.waiting.remove(req);
    req.state = RequestState.SENT;
    req.replicaId = replicaId;
    req.rank = rank;
    const now = this.now();
    req.sentAt = now;
    req.holdsSlot = true;
    this.load.sent(replicaId, now);
    modelRouted(this.replicas.router, req, replicaId);
    req.exchange = this.transport.send(replicaId, req.body!, req);
  }

  /** A sent call comes back (rejected, or it reached nobody): it keeps its place by age. */
  private requeue(req: PendingRequest): void {
    this.takeBack(req);
    this.slots.placeOrWait(req);
  }

  /** A sent call is no longer the replica's: its slot, reply channel and state go back. */
  private takeBack(req: PendingRequest): void {
    this.release(req);
    req.exchange?.close();
    req.exchange = null;
    req.state = RequestState.WAITING;
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
    this.slots.dispatchTo(replicaId);
    const q = this.load.queueLen(replicaId) ?? 0;
    if (this.waiting.size > 0 && q >= (this.replicas.config?.maxOngoingRequests ?? 0)) {
      this.slots.recheckIfForeign(replicaId, q);
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
      else if (silentSeconds >= UNREACHABLE_DROP_PROBES && this.dropReplica(replicaId))
        this.slots.dispatchAll();
      return;
    }
    if (this.waiting.size > 0 && this.replicas.isRoutable(replicaId)) this.prober.recheckLater(replicaId);
  }

  /** The replica took the call (it answered or started a stream): it may have run. */
  private accepted(req: PendingRequest, id: string): void {
    req.acked = true;
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
    this.slots.dispatchAll();
  }

  private failWaiting(error: Error): void {
    for (const req of this.waiting.toArray()) this.finish(req, error);
  }
}

function refuse(sink: ResultSink, error: Error): null {
  sink.reject(error);
  return null;
}
