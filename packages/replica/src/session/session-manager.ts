import type { Msg, NatsConnection, NatsError, Subscription } from "nats";
import {
  decodeHandoffOffer,
  type HandoffOffer,
  sessionBucketName,
  sessionForwardSubject,
  sessionHandoffSubject,
  type RequestMessage,
  type ReplicaSpec,
  type ResolvedSessionState,
} from "@tsserve/protocol/internal";
import { SessionOwnershipLostError, UnavailableError } from "@tsserve/protocol";
import type { RequestContext } from "../context.js";
import type { MethodEntry } from "../method-table.js";
import type { LogLine } from "../reply-writer.js";
import { OwnershipView } from "./ownership-view.js";
import { acquire } from "./session-acquire.js";
import { wrapSessionMethod } from "./session-call-wrap.js";
import type { SessionState, SessionStateProvider } from "./session-api.js";
import { SessionForwarder, isMovedForward, receiveForwarded } from "./session-forward.js";
import { SessionMetrics } from "./session-metrics.js";
import { handOffMoved, onHandoffRequest, parkAll, sweepIdle } from "./session-release.js";
import { SlotStatus, SessionSlot } from "./session-slot.js";
import { SessionStore, isRevisionConflict, type StoredRecord } from "./session-store.js";
import { shortId, type SessionDeps } from "./session-types.js";

/** A call is re-routed at most this often after forwards that found nobody (then it runs here). */
const MAX_FORWARD_HOPS = 3;

/**
 * The slot each admitted call belongs to (its state, its turn), also after the slot moved on,
 * kept on the call's request object: a WeakMap of them cost 0.8 µs of replica CPU per call in
 * WeakMap.set alone (profiled at 15k calls/s), a sixth of memory mode's whole overhead.
 */
const CALL_SLOT: unique symbol = Symbol("tsserve.sessionSlot");
type CallWithSlot = RequestContext & { [CALL_SLOT]?: SessionSlot };

/** What the manager needs from the request server: admission (the strict limit) and running a call. */
export interface CallRunner {
  /**
   * Limit, generator and JSON checks, then counts the call as accepted; false = it was answered.
   * `overLimit`: admitted beyond maxOngoingRequests (a call that followed its moving session).
   */
  admit(msg: Msg, req: RequestMessage, entry: MethodEntry, overLimit?: boolean): boolean;
  /** Runs an admitted call (in its request context) with `entry`. */
  run(msg: Msg, req: RequestMessage, entry: MethodEntry): void;
  /** Ends an admitted call with an error it never ran for. */
  fail(msg: Msg, req: RequestMessage, error: unknown): void;
  /** The current request (inside a call). */
  current(): RequestMessage | undefined;
}

/**
 * The sessions of one stateful deployment on this replica (docs/design.md "Session state"): routes
 * each session call to its owner (forwarding calls this replica does not own), runs a session's
 * calls one at a time in arrival order (`shared` methods together), acquires sessions (hand-off
 * from their previous owner), writes durable state before each reply, parks everything at drain
 * and expires idle sessions. Only stateful deployments have one: stateless calls never reach it.
 */
export class SessionManager implements SessionStateProvider {
  private readonly d: SessionDeps;
  private readonly shared: (name: string) => boolean;
  private readonly wrapped = new Map<MethodEntry, MethodEntry>();
  private readonly subs: Subscription[] = [];
  private readonly sweep: NodeJS.Timeout | undefined;
  private readonly forwarder: SessionForwarder;
  /** close() began: no session is acquired here any more (parking may be under way). */
  private closing = false;

  private constructor(
    d: SessionDeps,
    shared: boolean | string[],
    private readonly runner: CallRunner,
  ) {
    this.d = d;
    const names = new Set(Array.isArray(shared) ? shared : []);
    this.shared = shared === true ? () => true : (n) => names.has(n);
    this.forwarder = new SessionForwarder(d.nc, d.log);
    d.view.onChange = () => {
      if (!this.closing) handOffMoved(d, (id) => d.view.ownerOf(id));
    };
    if (d.settings.ttlMs > 0) {
      const every = Math.max(250, Math.min(d.settings.ttlMs / 4, 30_000));
      const refresh = (slot: SessionSlot): Promise<void> => this.store(slot).catch(() => undefined);
      this.sweep = setInterval(() => void sweepIdle(d, Date.now(), refresh), every);
      this.sweep.unref();
    }
  }

  /** Opens the deployment's session bucket and follows its membership. */
  static async open(
    nc: NatsConnection,
    spec: ReplicaSpec,
    settings: ResolvedSessionState,
    instance: object,
    runner: CallRunner,
    log: LogLine,
  ): Promise<SessionManager> {
    const bucket = spec.sessionBucket ?? sessionBucketName(spec.prefix, spec.app, spec.deployment);
    const store = await SessionStore.open(nc, bucket);
    const sessions = new Map<string, SessionSlot>();
    const d: SessionDeps = {
      nc,
      prefix: spec.prefix,
      app: spec.app,
      deployment: spec.deployment,
      me: spec.replicaId,
      generation: spec.generation ?? 0,
      settings,
      store,
      view: new OwnershipView(nc, spec),
      metrics: undefined as unknown as SessionMetrics,
      instance,
      log,
      sessions,
      moved: new Map(),
      handoffs: 0,
    };
    (d as { metrics: SessionMetrics }).metrics = new SessionMetrics(spec, () => ({
      sessions: sessions.size,
      handoffs: d.handoffs,
      bytes: [...sessions.values()].reduce((n, s) => n + (s.bytes?.length ?? 0), 0),
    }));
    return new SessionManager(d, spec.config.shared ?? false, runner);
  }

  /** Subscribes the forward and hand-off subjects (before the replica reports READY). */
  subscribe(onForwarded: (err: NatsError | null, msg: Msg) => void): void {
    const { nc, prefix, app, deployment, me } = this.d;
    this.subs.push(
      nc.subscribe(sessionForwardSubject(prefix, app, deployment, me), {
        callback: (err, msg) => onForwarded(err, err === null ? receiveForwarded(nc, msg) : msg),
      }),
      nc.subscribe(sessionHandoffSubject(prefix, app, deployment, me), {
        callback: (err, msg) => {
          if (err !== null) return;
          const offered = decodeHandoffOffer(msg.data);
          if (offered !== undefined) this.onOffer(offered);
          else onHandoffRequest(this.d, msg);
        },
      }),
    );
  }

  /** The forward subscription (drained with the request subject at drain). */
  get forwardSubscription(): Subscription | undefined {
    return this.subs[0];
  }

  /** Sessions owned and hand-offs in progress, for the heartbeat. */
  counts(): { sessions: number; handoffs: number } {
    return { sessions: this.d.sessions.size, handoffs: this.d.handoffs };
  }

  stateOf(req: RequestContext): SessionState<unknown> | undefined {
    return (req as CallWithSlot)[CALL_SLOT];
  }

  /**
   * A call of session `req.sessionId` (decoded, method known). `forwarded`: it came from a replica
   * that took this one for the owner, so it is run here whatever this replica's ring says (one
   * hop at most, also while views of the RUNNING set disagree).
   */
  onCall(msg: Msg, req: RequestMessage, entry: MethodEntry, forwarded: boolean, hops = 0): void {
    const d = this.d;
    const id = req.sessionId!;
    let slot = d.sessions.get(id);
    if (slot !== undefined && slot.status === SlotStatus.RELEASING) {
      // Forwards to where it is going came back undelivered (that replica is gone): wait for the
      // release to end, then take the call from the record like any other.
      if (hops > MAX_FORWARD_HOPS && slot.released !== undefined) {
        const again = (): void => this.onCall(msg, req, entry, true, hops);
        return void slot.released.then(again, again);
      }
      if (slot.releasingTo !== undefined) return this.forward(msg, req, entry, slot.releasingTo, hops, true);
      slot = undefined; // parked at drain: the call waits for its next owner
    }
    if (slot === undefined && !forwarded) {
      const moved = d.moved.get(id);
      if (moved !== undefined && moved.until > Date.now() && moved.to !== d.me) {
        // Only while the replica it went to serves: one that drained or died since has parked it
        // or lost it, and the ring below says where it goes now (a forward there would be lost).
        if (d.view.isLive(moved.to)) return this.forward(msg, req, entry, moved.to, hops, true);
        d.moved.delete(id);
      }
      const owner = d.view.ownerOf(id);
      // spill "move": the call came here directly although the ring names another owner (spilled
      // by a handle whose owner was full, or sent on an older view): take the session over here.
      if (owner !== undefined && owner !== d.me && d.settings.spill !== "move")
        return this.forward(msg, req, entry, owner, hops, false);
    }
    // Closing: every call admitted before has ended; a new session here would never be parked.
    if (slot === undefined && this.closing) return this.refuseClosing(msg, req, entry);
    // A call following its session here from its previous owner is not refused for
    // maxOngoingRequests: its caller counted it against that replica, which passed it on without
    // taking a slot, and a move sends many such forwards to one new owner at once. REJECTED would
    // send each back to a caller that now routes it here again, and make that caller take this
    // replica for full (a durable scale-up 4 → 5 of 300 sessions: the new replica refused 36
    // forwarded calls, then 17 of its callers' own). Spilled calls still obey the limit.
    if (!this.runner.admit(msg, req, entry, forwarded && isMovedForward(msg))) return;
    slot ??= this.startAcquiring(id);
    (req as CallWithSlot)[CALL_SLOT] = slot;
    slot.enqueue({ msg, req, entry: this.wrap(entry), shared: this.shared(req.method) });
    this.pump(slot);
  }

  /** A new slot for `id`, acquiring the session; its calls run once it is owned (or fail with the reason). */
  private startAcquiring(id: string, offered?: StoredRecord): SessionSlot {
    const d = this.d;
    const s = new SessionSlot(id, d.settings.maxBytes, (why) => d.metrics.refusedWrite(why));
    d.sessions.set(id, s);
    d.moved.delete(id);
    s.acquired = acquire(d, s, offered).then(
      () => this.pump(s),
      (e: unknown) => {
        if (d.sessions.get(id) === s) d.sessions.delete(id);
        for (const c of s.drainQueue()) this.runner.fail(c.msg, c.req, e);
      },
    );
    return s;
  }

  /**
   * The previous owner parked `id` for this replica (a hand-off on a change of the RUNNING set):
   * claim it now, outside any call slot, so the session's next call finds it owned. Ignored when
   * the session is here already, when this replica is closing, or when its own ring names
   * another owner (the offer is a hint; the session's next call acquires it wherever it lands).
   */
  private onOffer(offer: HandoffOffer): void {
    const d = this.d;
    const id = offer.sessionId;
    if (this.closing || d.sessions.has(id)) return;
    const owner = d.view.ownerOf(id);
    if (owner !== undefined && owner !== d.me) return;
    if (offer.revision <= 0) return void this.startAcquiring(id);
    const { state, exported } = offer;
    const record = { id, owner: "", generation: 0, parked: true, state, exported, at: 0 };
    this.startAcquiring(id, { record, revision: offer.revision });
  }

  /** Parks every owned session (drain, after the last call); then stops serving hand-offs. */
  async close(): Promise<void> {
    if (this.sweep !== undefined) clearInterval(this.sweep);
    this.closing = true;
    // A forward that comes back undelivered is routed again; it must not find the connection closed.
    await this.forwarder.idle();
    // Sessions claimed from an offer (no call waits for them) must be owned, then parked, too.
    await Promise.all([...this.d.sessions.values()].map((s) => s.acquired));
    await parkAll(this.d);
    for (const s of this.subs.slice(1)) await s.drain().catch(() => undefined);
    this.d.view.close();
  }

  /** `moved`: the call follows its session to the replica it is handed to (see onCall's admission). */
  private forward(
    msg: Msg,
    req: RequestMessage,
    entry: MethodEntry,
    to: string,
    hops: number,
    moved: boolean,
  ): void {
    const { prefix, app, deployment } = this.d;
    const subject = sessionForwardSubject(prefix, app, deployment, to);
    this.forwarder.send(msg, subject, to, moved, () => this.undelivered(msg, req, entry, to, hops + 1));
  }

  /**
   * A forward to `gone` found nobody serving forwards there (it drained or exited before this
   * replica's view of the RUNNING set caught up): the call never arrived, so it is routed again.
   * To the session's owner on the ring when that is another replica; otherwise it runs here, and
   * acquiring asks `gone` for the session (a draining replica serves hand-offs until it parked
   * everything) or takes it over once it is gone. The call waits, it is not lost.
   */
  private undelivered(msg: Msg, req: RequestMessage, entry: MethodEntry, gone: string, hops: number): void {
    const d = this.d;
    const id = req.sessionId!;
    if (d.moved.get(id)?.to === gone) d.moved.delete(id);
    const owner = d.view.ownerOf(id);
    d.log(
      `session ${shortId(id)}: forward to ${gone} found no subscriber; routed again (owner now ${owner ?? "here"})`,
    );
    if (hops <= MAX_FORWARD_HOPS && owner !== undefined && owner !== d.me && owner !== gone)
      return this.forward(msg, req, entry, owner, hops, false);
    this.onCall(msg, req, entry, true, hops);
  }

  /** A call that reached a closing replica with nowhere else to go: a typed, retryable error. */
  private refuseClosing(msg: Msg, req: RequestMessage, entry: MethodEntry): void {
    if (!this.runner.admit(msg, req, entry)) return;
    this.runner.fail(
      msg,
      req,
      new UnavailableError(
        `session ${shortId(req.sessionId!)}: replica ${this.d.me} is shutting down and knows no other owner yet; the call did not run, retry it`,
        { data: { sessionId: req.sessionId, replica: this.d.me } },
      ),
    );
  }

  private pump(slot: SessionSlot): void {
    for (let c = slot.takeNext(); c !== undefined; c = slot.takeNext())
      this.runner.run(c.msg, c.req, c.entry);
  }

  /** The method wrapped so that the state is stored before the reply and the next call starts after. */
  private wrap(entry: MethodEntry): MethodEntry {
    let w = this.wrapped.get(entry);
    if (w === undefined) this.wrapped.set(entry, (w = wrapSessionMethod(entry, () => this.afterCall())));
    return w;
  }

  /**
   * After a call: the durable write (before the reply), then the session's next call may start.
   * Without a write (memory mode, or nothing set) it all happens now and returns undefined, so
   * the wrapper adds no await to the call.
   */
  private afterCall(): Promise<void> | undefined {
    const req = this.runner.current();
    const slot = req === undefined ? undefined : (req as CallWithSlot)[CALL_SLOT];
    if (req === undefined || slot === undefined) return undefined;
    const shared = this.shared(req.method);
    if (this.d.settings.mode !== "durable" || !slot.dirty) return void this.endTurn(slot, shared);
    return this.store(slot).finally(() => this.endTurn(slot, shared));
  }

  /** A call of `slot` ended: the session's next call may start. */
  private endTurn(slot: SessionSlot, shared: boolean): void {
    slot.ended(shared);
    // The next call of the session starts in a microtask, not inside this one's return: a
    // method that returns at once would otherwise run the whole queue nested on one stack.
    if (slot.queued > 0) queueMicrotask(() => this.pump(slot));
  }

  /** Durable mode: one compare-and-set write of the state; refused = this replica lost the session. */
  private store(slot: SessionSlot): Promise<void> {
    const d = this.d;
    slot.dirty = false;
    const bytes = slot.bytes;
    const write = slot.writes.then(async () => {
      try {
        slot.revision = await d.store.update(
          {
            id: slot.sessionId,
            owner: d.me,
            generation: d.generation,
            parked: false,
            state: bytes,
            exported: null,
            at: Date.now(),
          },
          slot.revision,
        );
        slot.storedAt = Date.now();
      } catch (e) {
        // Dropped either way: the next call acquires it again from the record.
        let error: Error;
        if (isRevisionConflict(e)) {
          d.metrics.refusedWrite("ownership-lost");
          d.log(`session ${shortId(slot.sessionId)}: write refused, another replica owns it; dropped here`);
          error = new SessionOwnershipLostError(
            `session ${shortId(slot.sessionId)}: replica ${d.me} no longer owns it (another replica took it over); this call's state was not stored`,
            { cause: e, data: { sessionId: slot.sessionId, replica: d.me } },
          );
        } else {
          d.metrics.refusedWrite("store-error");
          error = new UnavailableError(
            `session ${shortId(slot.sessionId)}: state not stored (${(e as Error).message}); it may or may not have been written`,
            { cause: e },
          );
        }
        this.drop(slot, error);
        throw error;
      }
    });
    slot.writes = write.catch(() => undefined);
    return write;
  }

  /** Forgets a session this replica lost: its queued calls fail with `error` (they did not run). */
  private drop(slot: SessionSlot, error: unknown): void {
    if (this.d.sessions.get(slot.sessionId) === slot) this.d.sessions.delete(slot.sessionId);
    for (const c of slot.drainQueue()) this.runner.fail(c.msg, c.req, error);
  }
}
