import {
  BackPressureError,
  encodeRequest,
  errorFromWire,
  ReplicaDiedError,
  ReplyKind,
  RequestCancelledError,
  RequestTimeoutError,
  type Reply,
  type ReplicaInfo,
} from "@tsserve/protocol";
import { backoffDelayMs, probeDeadlineMs } from "./backoff.js";
import { BackoffSleepers } from "./backoff-sleepers.js";
import { PROBE_DEADLINE_MS } from "./options.js";
import {
  PendingRequest,
  RequestState,
  SendOutcome,
  type ReplyHandler,
  type ResultSink,
} from "./pending-request.js";
import { NO_RESPONDERS, type DeploymentTransport, type ProbeResult } from "./replica-transport.js";
import { ReplicaSet, type ReplicaSetOptions } from "./replica-set.js";

/** Options of {@link DeploymentRouter}. */
export interface DeploymentRouterOptions extends ReplicaSetOptions {
  /** The data plane bound to this deployment. */
  transport: DeploymentTransport;
  /** Makes a unique request id (the client's id plus a counter). */
  newRequestId: () => string;
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
 * The routing loop of one deployment (docs/design.md §4), shared by every handle of it in a client.
 *
 * Each request runs its own loop: ask the RequestRouter for ranked groups; in each group take the
 * lowest cached queue length below maxOngoingRequests (probing unknown or full replicas when none
 * qualifies); send; on REJECTED or no-responders try the next group; when every group failed, back
 * off and ask again. The request is owned by its loop until it is fulfilled or cancelled, and every
 * await is raced against cancellation so a cancelled request never probes or sends afterwards.
 */
export class DeploymentRouter extends ReplicaSet implements ReplyHandler {
  private readonly transport: DeploymentTransport;
  private readonly newRequestId: () => string;
  private readonly probing = new Map<string, Promise<ProbeResult>>();
  /** Requests in backoff, oldest first: a slot freed on a replica wakes the oldest at once. */
  private readonly sleepers = new BackoffSleepers();
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

  constructor(options: DeploymentRouterOptions) {
    super(options);
    this.transport = options.transport;
    this.newRequestId = options.newRequestId;
  }

  /**
   * Starts a call. Returns the pending request, or null when it was refused at once (back-pressure,
   * already-aborted signal, closed client): `sink` has then been rejected.
   */
  submit(args: unknown[], o: SubmitOptions, sink: ResultSink): PendingRequest | null {
    if (this.closedError !== null) return refuse(sink, this.closedError);
    this.start();
    const max = this.config?.maxQueuedRequests ?? -1;
    if (max !== -1 && this.queued >= max)
      return refuse(sink, new BackPressureError(this.queued, max, this.label));
    if (o.signal?.aborted) return refuse(sink, new RequestCancelledError());
    const now = this.now();
    const req = new PendingRequest(
      this.newRequestId(),
      o.method,
      args,
      o.sessionId,
      o.stream,
      now,
      sink,
      this,
      o.signal,
    );
    this.pending.add(req);
    this.queued++;
    if (o.timeoutMs > 0) {
      req.timeoutMs = o.timeoutMs;
      req.timer = setTimeout(this.onTimeout, o.timeoutMs, req);
    }
    if (o.signal !== undefined) {
      req.abortListener = () => this.finish(req, new RequestCancelledError());
      o.signal.addEventListener("abort", req.abortListener, { once: true });
    }
    this.retryLookupIfFailed();
    void this.route(req);
    return req;
  }

  /** Cancels a request (DeploymentResponse.cancel()); a no-op once it is done. */
  cancel(req: PendingRequest): void {
    this.finish(req, new RequestCancelledError());
  }

  private async route(req: PendingRequest): Promise<void> {
    try {
      let backoffIndex = 0;
      for (;;) {
        if (req.done) return;
        const router = this.router;
        if (router === null || this.config === null) {
          if (this.routerError !== null) return this.finish(req, this.routerError);
          await req.race(this.changed());
          continue;
        }
        const candidates = this.candidates;
        if (candidates.length === 0) {
          await req.race(this.changed());
          continue;
        }
        const groups = router.chooseReplicas(candidates, req);
        for (let rank = 0; rank < groups.length; rank++) {
          const group = groups[rank]!;
          let chosen = this.pickFromCache(group, true);
          if (chosen === null) {
            chosen = await this.probeAndPick(group, backoffIndex, req);
            if (req.done) return;
          }
          if (chosen === null) continue;
          const outcome = await this.send(req, chosen, rank);
          if (req.done || outcome === SendOutcome.ACCEPTED) return;
        }
        // Every group failed: back off, but wake early if the replica set changes (a new replica
        // should win at once) or the request is cancelled.
        await req.race(
          Promise.race([this.sleepers.sleep(req, backoffDelayMs(backoffIndex)), this.changed()]),
        );
        backoffIndex++;
      }
    } catch (e) {
      this.finish(req, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * The replica in `group` with the lowest fresh queue length below capacity (ties: list order).
   * With `probeOthers`, unknown or full members are probed in the background when one qualifies.
   */
  pickFromCache(group: readonly ReplicaInfo[], probeOthers: boolean): string | null {
    const max = this.config!.maxOngoingRequests;
    let best: string | null = null;
    let bestQ = max;
    let uncached = false;
    for (const r of group) {
      const id = r.replicaId;
      if (!this.routable.has(id)) continue;
      const q = this.cache.get(id);
      if (q === undefined || q >= max) uncached = true;
      else if (q < bestQ) {
        best = id;
        bestQ = q;
      }
    }
    if (best !== null && uncached && probeOthers) {
      for (const r of group) {
        const q = this.cache.get(r.replicaId);
        if ((q === undefined || q >= max) && this.routable.has(r.replicaId)) {
          void this.probe(r.replicaId, PROBE_DEADLINE_MS);
        }
      }
    }
    return best;
  }

  private async probeAndPick(group: readonly ReplicaInfo[], backoffIndex: number, req: PendingRequest) {
    const deadline = probeDeadlineMs(backoffIndex);
    const probes: Promise<ProbeResult>[] = [];
    for (const r of group) if (this.routable.has(r.replicaId)) probes.push(this.probe(r.replicaId, deadline));
    if (probes.length === 0) return null;
    await req.race(Promise.all(probes));
    if (req.done) return null;
    return this.pickFromCache(group, false);
  }

  /** Probes one replica (one probe at a time per replica); the answer updates the cache. */
  private probe(replicaId: string, deadlineMs: number): Promise<ProbeResult> {
    const inFlight = this.probing.get(replicaId);
    if (inFlight !== undefined) return inFlight;
    const p = this.transport.probe(replicaId, deadlineMs).then((r) => {
      this.probing.delete(replicaId);
      if (r === NO_RESPONDERS) this.drop(replicaId);
      // An answer from a replica removed meanwhile is ignored (Ray: test_replica_responds_after_being_removed).
      else if (r !== null && this.routable.has(replicaId)) this.learnQueueLen(replicaId, r);
      return r;
    });
    this.probing.set(replicaId, p);
    return p;
  }

  private send(req: PendingRequest, replicaId: string, rank: number): Promise<SendOutcome> {
    req.state = RequestState.SENT;
    req.replicaId = replicaId;
    req.rank = rank;
    req.sentAt = this.now();
    this.queued--;
    this.addInFlight(replicaId, 1);
    this.cache.increment(replicaId);
    const outcome = req.awaitOutcome();
    req.body ??= encodeRequest(req);
    req.exchange = this.transport.send(replicaId, req.body, req);
    return outcome;
  }

  /** Takes a sent request back to routing (rejected, or it reached nobody). */
  private unsend(req: PendingRequest): void {
    req.exchange?.close();
    req.exchange = null;
    req.state = RequestState.ROUTING;
    this.addInFlight(req.replicaId!, -1);
    this.queued++;
  }

  /** ReplyHandler: interprets one reply of a sent request. */
  handleReply(req: PendingRequest, reply: Reply | null): void {
    if (req.state !== RequestState.SENT) return;
    const id = req.replicaId!;
    if (reply === null) {
      // No responders: the request never reached a replica, so it is safe to send elsewhere.
      this.unsend(req);
      this.drop(id);
      req.settleOutcome(SendOutcome.RETRY);
      return;
    }
    if (reply.queueLen >= 0 && this.routable.has(id)) {
      this.learnQueueLen(id, reply.queueLen);
      if (
        this.sleepers.size > 0 &&
        reply.queueLen < this.config!.maxOngoingRequests &&
        reply.kind !== ReplyKind.CHUNK &&
        reply.kind !== ReplyKind.STREAM_START
      ) {
        this.sleepers.wakeOne();
      }
    }
    switch (reply.kind) {
      case ReplyKind.REJECTED:
        this.metrics?.requestRejected?.(this.app, this.deployment, id);
        this.unsend(req);
        req.settleOutcome(SendOutcome.RETRY);
        return;
      case ReplyKind.OK:
        this.accepted(req, id);
        this.finish(req, null, reply.value, true);
        return;
      case ReplyKind.ERROR:
        if (reply.queueLen >= 0) this.accepted(req, id);
        this.finish(req, errorFromWire(reply.error), undefined, true);
        return;
      case ReplyKind.STREAM_START:
        this.accepted(req, id);
        req.settleOutcome(SendOutcome.ACCEPTED);
        return;
      case ReplyKind.CHUNK:
        req.sink.chunk(reply.value);
        return;
      case ReplyKind.STREAM_END:
        this.finish(req, null, undefined, true);
        return;
      case ReplyKind.QUEUE_LEN:
        return;
    }
  }

  private accepted(req: PendingRequest, id: string): void {
    // Once per request: a stream that fails after STREAM_START was already counted as routed.
    if (req.accepted) return;
    req.accepted = true;
    try {
      this.router?.onRequestRouted?.(req, id);
    } catch {
      // A router hook must not break request bookkeeping.
    }
    this.metrics?.requestRouted?.(this.app, this.deployment, id, req.rank);
  }

  /**
   * Ends a request exactly once: releases its timer, signal listener, reply channel and counters,
   * then settles the caller's response. `replied` says the last reply carried a fresh queue length.
   */
  finish(req: PendingRequest, error: Error | null, value?: unknown, replied = false): void {
    if (req.done) return;
    const wasSent = req.state === RequestState.SENT;
    req.markDone();
    this.pending.delete(req);
    if (req.timer !== null) clearTimeout(req.timer);
    if (req.abortListener !== null) req.signal?.removeEventListener("abort", req.abortListener);
    if (wasSent) {
      const id = req.replicaId!;
      req.exchange?.close();
      req.exchange = null;
      this.addInFlight(id, -1);
      if (!replied) this.cache.decrement(id);
      try {
        this.router?.onRequestCompleted?.(req, id);
      } catch {
        // See accepted().
      }
    } else {
      this.queued--;
    }
    const outcome = error === null ? "ok" : ((error as { code?: string }).code ?? "INTERNAL");
    this.metrics?.requestCompleted?.(this.app, this.deployment, this.now() - req.createdAt, outcome);
    if (error === null) req.sink.resolve(value);
    else req.sink.reject(error);
  }

  /**
   * Liveness sweep (called about once a second by the client): a replica with a request in flight
   * for longer than `minAgeMs` is probed; no-responders means its process is gone, so its requests
   * fail with ReplicaDiedError instead of hanging. Also covers replicas already removed from the
   * membership (draining ones finish their requests; dead ones must not strand them).
   */
  checkLiveness(minAgeMs: number, deadlineMs: number): void {
    if (this.inFlightTotal === 0) return;
    const now = this.now();
    let suspects: Set<string> | null = null;
    for (const req of this.pending) {
      if (req.state === RequestState.SENT && now - req.sentAt >= minAgeMs)
        (suspects ??= new Set()).add(req.replicaId!);
    }
    if (suspects === null) return;
    // The routing loop's probe: one in flight per replica, and its answer refreshes the cache.
    for (const id of suspects) {
      void this.probe(id, deadlineMs).then((r) => {
        if (r === NO_RESPONDERS) this.replicaDied(id);
      });
    }
  }

  /** Fails every request in flight on `replicaId` with ReplicaDiedError and drops the replica. */
  replicaDied(replicaId: string): void {
    for (const req of this.pending) {
      if (req.state === RequestState.SENT && req.replicaId === replicaId) {
        this.finish(
          req,
          new ReplicaDiedError(
            `replica ${replicaId} of ${this.label} was lost while running request ${req.requestId}; it may or may not have run`,
            { data: { replicaId, requestId: req.requestId } },
          ),
        );
      }
    }
    this.drop(replicaId);
  }

  /** Fails every pending request with `error` and stops following membership. */
  close(error: Error): void {
    this.closedError = error;
    for (const req of [...this.pending]) this.finish(req, error);
    this.stop();
  }

  protected override failWaiting(error: Error): void {
    for (const req of [...this.pending]) if (req.state === RequestState.ROUTING) this.finish(req, error);
  }
}

function refuse(sink: ResultSink, error: Error): null {
  sink.reject(error);
  return null;
}
