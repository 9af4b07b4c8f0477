import type { Msg, NatsError } from "nats";
import {
  decodeRequest,
  encodeReply,
  errorToWire,
  parseJsonArgs,
  ReplyKind,
  type RequestMessage,
} from "@tsserve/protocol/internal";
import { isTsserveError, ProtocolError } from "@tsserve/protocol";
import { requestStorage } from "./context.js";
import { MethodKind, type MethodEntry, type MethodTable } from "./method-table.js";
import type { SessionManager } from "./session/session-manager.js";
import type { ModelCache } from "./multiplex/model-cache.js";
import { ReplyWriter, type LogLine } from "./reply-writer.js";
import { serveStream, serveUnary, type CallScope } from "./serve-call.js";
import type { StreamCredits } from "./stream-credits.js";
import type { RequestHooks } from "./request-hooks.js";

export type { LogLine } from "./reply-writer.js";

const storage = requestStorage();

/**
 * Serves one deployment instance on the request and probe subjects: decodes, applies the strict
 * `maxOngoingRequests` limit and starts the call (`serve-call.ts`). The hot path allocates only what
 * the wire needs (the decoded request and the reply bytes): no per-request closures or timers; the
 * decoded request itself is the AsyncLocalStorage store that `getRequestContext()` returns.
 */
export class RequestServer {
  /** Sends replies and counts the calls running. */
  readonly replies: ReplyWriter;
  private readonly scope: CallScope;
  // Replies without payload depend only on the count: encode each once.
  private readonly rejectedReplies: Uint8Array[] = [];
  private readonly queueLenReplies: Uint8Array[] = [];
  /** Malformed requests answered BAD_REQUEST or dropped: reported on every heartbeat. */
  rejectedMessages = 0;
  private lastBadLogAt = 0;
  /** Multiplexed deployments: the replica's models; set by the runtime. */
  models: ModelCache | undefined = undefined;
  /**
   * Stateful deployments only (set by the runtime): session calls go through it (ownership,
   * per-session order, state stored before the reply). Stateless deployments pay one check.
   */
  sessions: SessionManager | undefined = undefined;
  private badSinceLog = 0;

  constructor(
    /** The deployment instance. */
    readonly instance: object,
    private readonly methods: MethodTable,
    private readonly maxOngoingRequests: number,
    private readonly deploymentName: string,
    private readonly log: LogLine,
    /** The replica's stream windows (credit subscription callback: `credits.onCredit`). */
    readonly credits: StreamCredits,
  ) {
    this.replies = new ReplyWriter(deploymentName, log);
    this.scope = { instance, replies: this.replies, credits, log, deployment: deploymentName };
  }

  /** Request logging (errors with request and session id) and metrics; set by the runtime. */
  set hooks(hooks: RequestHooks | undefined) {
    this.replies.hooks = hooks;
  }

  /** Requests accepted and not yet finished (unary: until the reply; streams: until the end). */
  get ongoing(): number {
    return this.replies.ongoing;
  }

  /** Subscription callback for `req.<app>.<deployment>.<replica>`. */
  readonly onRequest = (err: NatsError | null, msg: Msg): void => {
    this.serve(err, msg, false);
  };

  /** Subscription callback for `sfwd.<app>.<deployment>.<replica>` (stateful deployments). */
  readonly onForwarded = (err: NatsError | null, msg: Msg): void => {
    this.serve(err, msg, true);
  };

  private serve(err: NatsError | null, msg: Msg, forwarded: boolean): void {
    if (err !== null) {
      this.log(`request subscription error: ${err.message}`);
      return;
    }
    let req: RequestMessage;
    try {
      req = decodeRequest(msg.data);
    } catch (e) {
      this.badRequest(msg, e);
      return;
    }
    const r = this.replies;
    const entry = this.methods.get(req.method);
    if (entry === undefined) {
      r.send(
        msg,
        ReplyKind.ERROR,
        r.ongoing,
        errorToWire(this.methods.notFound(req.method, this.deploymentName)),
      );
      return;
    }
    if (this.sessions !== undefined && req.sessionId !== null) {
      this.sessions.onCall(msg, req, entry, forwarded);
      return;
    }
    if (this.admit(msg, req, entry)) this.run(msg, req, entry);
  }

  /**
   * The strict `maxOngoingRequests` limit, the generator check and the JSON parse; then the call
   * counts as accepted. False when the call was answered (REJECTED or ERROR) instead.
   * `overLimit`: admitted beyond the limit, a session call that followed its session from the
   * replica that handed it here (see SessionManager.onCall).
   */
  admit(msg: Msg, req: RequestMessage, entry: MethodEntry, overLimit = false): boolean {
    const r = this.replies;
    if (r.ongoing >= this.maxOngoingRequests && !overLimit) {
      r.respond(msg, this.rejectedReply(r.ongoing));
      return false;
    }
    if (!req.stream && entry.kind === MethodKind.GENERATOR) {
      const e = new ProtocolError(
        `method ${JSON.stringify(req.method)} of deployment ${this.deploymentName} is a generator: call it with options({ stream: true })`,
      );
      r.send(msg, ReplyKind.ERROR, r.ongoing, errorToWire(e));
      return false;
    }
    if (req.json === true) {
      // The proxy's JSON fast path: the body's JSON text is parsed here, not in the proxy.
      try {
        req.args = parseJsonArgs(req.args[0] as Uint8Array);
      } catch (e) {
        r.send(msg, ReplyKind.ERROR, r.ongoing, errorToWire(e));
        return false;
      }
    }
    r.accept(msg, req);
    return true;
  }

  /** Runs an admitted call in its request context. */
  run(msg: Msg, req: RequestMessage, entry: MethodEntry): void {
    if (req.multiplexedModelId !== undefined && this.models !== undefined) {
      void this.serveWithModel(msg, req, entry, this.models);
      return;
    }
    this.start(msg, req, entry);
  }

  /** Ends an admitted call that never ran (its session could not reach this replica). */
  fail(msg: Msg, req: RequestMessage, error: unknown): void {
    storage.run(req, () => this.replies.finish(msg, ReplyKind.ERROR, errorToWire(error)));
  }

  /** The request being served (inside a call). */
  current(): RequestMessage | undefined {
    return storage.getStore() as RequestMessage | undefined;
  }

  /** A multiplexed call: its model is loaded (once, in its slot) before the method runs. */
  private async serveWithModel(
    msg: Msg,
    req: RequestMessage,
    entry: MethodEntry,
    models: ModelCache,
  ): Promise<void> {
    try {
      await models.ensure(req.multiplexedModelId!);
    } catch (e) {
      this.replies.finish(msg, ReplyKind.ERROR, errorToWire(e));
      return;
    }
    this.start(msg, req, entry);
  }

  /** The method itself, in the call's request context. */
  private start(msg: Msg, req: RequestMessage, entry: MethodEntry): void {
    if (req.stream) void storage.run(req, serveStream, this.scope, msg, req, entry);
    else storage.run(req, serveUnary, this.scope, msg, req, entry);
  }

  /** Subscription callback for `probe.<app>.<deployment>.<replica>`: any body, reply QUEUE_LEN. */
  readonly onProbe = (err: NatsError | null, msg: Msg): void => {
    if (err !== null) {
      this.log(`probe subscription error: ${err.message}`);
      return;
    }
    this.replies.respond(msg, this.queueLenReply(this.replies.ongoing));
  };

  /** Resolves once no request is running (at once if none is). */
  whenIdle(): Promise<void> {
    return this.replies.whenIdle();
  }

  private badRequest(msg: Msg, e: unknown): void {
    this.rejectedMessages++;
    const err = isTsserveError(e) ? e : new ProtocolError(`undecodable request: ${String(e)}`, { cause: e });
    if (msg.reply) {
      this.replies.send(msg, ReplyKind.ERROR, this.replies.ongoing, errorToWire(err));
      return;
    }
    // No one to answer: one log line, at most once a second so a flood cannot fill the disk.
    this.badSinceLog++;
    const now = Date.now();
    if (now - this.lastBadLogAt >= 1000) {
      const more = this.badSinceLog > 1 ? ` (${this.badSinceLog - 1} more since the last line)` : "";
      this.log(`dropped a bad request without reply subject on ${msg.subject}: ${err.message}${more}`);
      this.lastBadLogAt = now;
      this.badSinceLog = 0;
    }
  }

  private rejectedReply(n: number): Uint8Array {
    return (this.rejectedReplies[n] ??= encodeReply(ReplyKind.REJECTED, n));
  }

  private queueLenReply(n: number): Uint8Array {
    if (n > 1024) return encodeReply(ReplyKind.QUEUE_LEN, n);
    return (this.queueLenReplies[n] ??= encodeReply(ReplyKind.QUEUE_LEN, n));
  }
}
