import type { Msg } from "nats";
import {
  encodeReply,
  errorToWire,
  ReplyKind,
  type RequestMessage,
  type WireError,
  type WriteCoalescer,
} from "@tsserve/protocol/internal";
import { ReplyTooLargeError, TsserveError } from "@tsserve/protocol";

import { AcceptanceAcks } from "./acceptance-acks.js";
import { requestStorage } from "./context.js";
import type { RequestHooks } from "./request-hooks.js";

const storage = requestStorage();

/** Writes one diagnostic line (stderr in the replica process). */
export type LogLine = (line: string) => void;

/**
 * Sends replies and keeps the count of accepted calls: what both the request server (acceptance,
 * rejection) and the call runners (`serve-call.ts`) write through, so neither imports the other.
 */
export class ReplyWriter {
  /** Requests accepted and not yet finished (unary: until the reply; streams: until the end). */
  ongoing = 0;
  /** ACCEPTED replies for unary calls still running a few ms after they arrived. */
  readonly acks = new AcceptanceAcks(() => this.ongoing);
  /** Request logging and metrics (set by the runtime): told of every accepted call's end. */
  hooks: RequestHooks | undefined;
  /** Sends the replies of one event-loop turn in one write (set by the runtime). */
  writes: WriteCoalescer | undefined;
  private idleWaiter: (() => void) | undefined;

  constructor(
    private readonly deploymentName: string,
    private readonly log: LogLine,
  ) {}

  /**
   * Counts one accepted call, tells the hooks, and watches a unary call whose caller wants an
   * ACCEPTED reply if it runs long enough (a stream's STREAM_START says as much).
   */
  accept(msg: Msg, req: RequestMessage): void {
    this.ongoing++;
    this.hooks?.accepted(req, this.ongoing);
    if (!req.stream && req.acks === true) this.acks.track(msg);
  }

  /** Ends one accepted call: decrements the count and sends the final reply (unless `silent`). */
  finish(msg: Msg, kind: ReplyKind, payload?: unknown, silent = false): void {
    this.acks.done(msg);
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

  /** Resolves once no call is running (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.ongoing === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiter = resolve;
    });
  }

  /**
   * Encodes and sends one reply. Returns the bytes sent (0 without a reply subject), or -1 when
   * the value could not be sent as is (not encodable, or over the server's max_payload): an ERROR
   * reply went out in its place.
   */
  send(msg: Msg, kind: ReplyKind, queueLen: number, payload?: unknown): number {
    if (!msg.reply) return 0;
    let bytes: Uint8Array;
    try {
      bytes = encodeReply(kind, queueLen, payload);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const err = new TsserveError("INTERNAL", `deployment ${this.deploymentName}: ${why}`, { cause: e });
      this.sendError(msg, queueLen, errorToWire(err));
      return -1;
    }
    try {
      this.writes?.beforePublish();
      msg.respond(bytes);
      return bytes.length;
    } catch (e) {
      const tooLarge = (e as { code?: unknown }).code === "MAX_PAYLOAD_EXCEEDED";
      const what = kind === ReplyKind.CHUNK ? "stream chunk" : "reply";
      const err = tooLarge
        ? new ReplyTooLargeError(
            `${what} of deployment ${this.deploymentName} is ${bytes.length} bytes, over the NATS server's max_payload; return less, or stream it in smaller chunks`,
            { data: { bytes: bytes.length } },
          )
        : new TsserveError("INTERNAL", `reply could not be sent: ${(e as Error).message}`);
      this.sendError(msg, queueLen, errorToWire(err));
      return -1;
    }
  }

  /** Sends prepared bytes (cached REJECTED / QUEUE_LEN replies). */
  respond(msg: Msg, bytes: Uint8Array): void {
    if (msg.reply) this.respondQuietly(msg, bytes);
  }

  private sendError(msg: Msg, queueLen: number, error: WireError): void {
    this.respondQuietly(msg, encodeReply(ReplyKind.ERROR, queueLen, error));
  }

  private respondQuietly(msg: Msg, bytes: Uint8Array): void {
    try {
      this.writes?.beforePublish();
      msg.respond(bytes);
    } catch (e) {
      this.log(`reply to ${msg.reply} lost: ${(e as Error).message}`);
    }
  }
}
