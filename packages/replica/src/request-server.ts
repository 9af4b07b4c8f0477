import type { Msg, NatsError } from "nats";
import {
  decodeRequest,
  encodeReply,
  errorToWire,
  isTsserveError,
  PayloadTooLargeError,
  ProtocolError,
  ReplyKind,
  TsserveError,
  type RequestMessage,
} from "@tsserve/protocol";
import { requestStorage } from "./context.js";
import { MethodKind, type MethodTable } from "./method-table.js";
import type { RequestHooks } from "./request-hooks.js";
import { isGeneratorObject, serveStream, serveUnary } from "./serve-call.js";

/** Writes one diagnostic line (stderr in the replica process). */
export type LogLine = (line: string) => void;

const storage = requestStorage();

/**
 * Serves one deployment instance on the request and probe subjects: decodes, applies the strict
 * `maxOngoingRequests` limit, calls the method and replies. The hot path allocates only what the
 * wire needs (the decoded request and the reply bytes): no per-request closures or timers; the
 * decoded request itself is the AsyncLocalStorage store that `getRequestContext()` returns.
 */
export class RequestServer {
  /** Requests accepted and not yet finished (unary: until the reply; streams: until the end). */
  ongoing = 0;
  private idleWaiter: (() => void) | undefined;
  // Replies without payload depend only on the count: encode each once.
  private readonly rejectedReplies: Uint8Array[] = [];
  private readonly queueLenReplies: Uint8Array[] = [];
  /** Malformed requests answered BAD_REQUEST or dropped: reported on every heartbeat. */
  rejectedMessages = 0;
  /** Request logging (errors with request and session id) and metrics; set by the runtime. */
  hooks: RequestHooks | undefined;
  private lastBadLogAt = 0;
  private badSinceLog = 0;

  constructor(
    /** The deployment instance. */
    readonly instance: object,
    private readonly methods: MethodTable,
    private readonly maxOngoingRequests: number,
    private readonly deploymentName: string,
    private readonly log: LogLine,
  ) {}

  /** Subscription callback for `req.<app>.<deployment>.<replica>`. */
  readonly onRequest = (err: NatsError | null, msg: Msg): void => {
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
    const entry = this.methods.get(req.method);
    if (entry === undefined) {
      this.send(
        msg,
        ReplyKind.ERROR,
        this.ongoing,
        errorToWire(this.methods.notFound(req.method, this.deploymentName)),
      );
      return;
    }
    if (this.ongoing >= this.maxOngoingRequests) {
      if (msg.reply) msg.respond(this.rejectedReply(this.ongoing));
      return;
    }
    if (!req.stream && entry.kind === MethodKind.GENERATOR) {
      const e = new ProtocolError(
        `method ${JSON.stringify(req.method)} of deployment ${this.deploymentName} is a generator: call it with options({ stream: true })`,
      );
      this.send(msg, ReplyKind.ERROR, this.ongoing, errorToWire(e));
      return;
    }
    this.ongoing++;
    this.hooks?.accepted(req, this.ongoing);
    if (req.stream) void storage.run(req, serveStream, this, msg, req, entry);
    else storage.run(req, serveUnary, this, msg, req, entry);
  };

  /** Subscription callback for `probe.<app>.<deployment>.<replica>`: any body, reply QUEUE_LEN. */
  readonly onProbe = (err: NatsError | null, msg: Msg): void => {
    if (err !== null) {
      this.log(`probe subscription error: ${err.message}`);
      return;
    }
    if (msg.reply) msg.respond(this.queueLenReply(this.ongoing));
  };

  /** Resolves once no request is running (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.ongoing === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiter = resolve;
    });
  }

  /** Ends one accepted request: decrements the count and sends the final reply (unless `silent`). */
  finish(msg: Msg, kind: ReplyKind, payload?: unknown, silent = false): void {
    const q = --this.ongoing;
    // Runs in the request's async context, so the store is this request.
    this.hooks?.finished(storage.getStore() as RequestMessage | undefined, kind, payload, q);
    if (!silent) this.send(msg, kind, q, payload);
    if (q === 0 && this.idleWaiter !== undefined) {
      const w = this.idleWaiter;
      this.idleWaiter = undefined;
      w();
    }
  }

  /** Ends a unary request with the method's result (or a clear error if it is a generator). */
  finishValue(msg: Msg, value: unknown): void {
    if (isGeneratorObject(value)) {
      void value.return(undefined);
      const e = new ProtocolError("the method returned a generator: call it with options({ stream: true })");
      this.finish(msg, ReplyKind.ERROR, errorToWire(e));
      return;
    }
    this.finish(msg, ReplyKind.OK, value);
  }

  /** Awaits an async method's result and ends the request. */
  async settle(msg: Msg, pending: PromiseLike<unknown>): Promise<void> {
    let value: unknown;
    try {
      value = await pending;
    } catch (e) {
      this.finish(msg, ReplyKind.ERROR, errorToWire(e, true));
      return;
    }
    this.finishValue(msg, value);
  }

  /**
   * Encodes and sends one reply. Returns false when the value could not be sent as is (not
   * encodable, or over the server's max_payload); an ERROR reply went out in its place.
   */
  send(msg: Msg, kind: ReplyKind, queueLen: number, payload?: unknown): boolean {
    if (!msg.reply) return true;
    let bytes: Uint8Array;
    try {
      bytes = encodeReply(kind, queueLen, payload);
    } catch (e) {
      const err = new TsserveError(
        "INTERNAL",
        `reply of deployment ${this.deploymentName} could not be encoded: ${String(e)}`,
      );
      this.sendQuietly(msg, encodeReply(ReplyKind.ERROR, queueLen, errorToWire(err)));
      return false;
    }
    try {
      msg.respond(bytes);
      return true;
    } catch (e) {
      const tooLarge = (e as { code?: unknown }).code === "MAX_PAYLOAD_EXCEEDED";
      const err = tooLarge
        ? new PayloadTooLargeError(`reply of ${bytes.length} bytes exceeds the NATS server's max_payload`)
        : new TsserveError("INTERNAL", `reply could not be sent: ${(e as Error).message}`);
      this.sendQuietly(msg, encodeReply(ReplyKind.ERROR, queueLen, errorToWire(err)));
      return false;
    }
  }

  private sendQuietly(msg: Msg, bytes: Uint8Array): void {
    try {
      msg.respond(bytes);
    } catch (e) {
      this.log(`reply to ${msg.reply} lost: ${(e as Error).message}`);
    }
  }

  private badRequest(msg: Msg, e: unknown): void {
    this.rejectedMessages++;
    const err = isTsserveError(e) ? e : new ProtocolError(`undecodable request: ${String(e)}`, { cause: e });
    if (msg.reply) {
      this.send(msg, ReplyKind.ERROR, this.ongoing, errorToWire(err));
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
