import {
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Payload,
  type PublishOptions,
} from "nats";
import { SESSION_FORWARD_MOVED_HEADER, SESSION_FORWARD_REPLY_HEADER } from "@tsserve/protocol/internal";
import type { LogLine } from "../reply-writer.js";

/**
 * How long a forwarder waits for the receiver's receipt. A live receiver sends it from its
 * subscription callback, so it takes one round trip; without it (a stopped or cut-off process)
 * the call may or may not have arrived and is left to the caller's timeout and liveness probes.
 */
const RECEIPT_TIMEOUT_MS = 2000;

const EMPTY = new Uint8Array(0);

/**
 * Sends session calls to the replica that owns them (`sfwd.…`) so that a forward to a replica that
 * no longer serves forwards (drained, exited, crashed) is never dropped in silence: the forward is
 * a request, the receiver acknowledges it at once, and "no responders" (the call certainly never
 * reached it) hands the call back to `undelivered` to be routed again. The caller's reply subject
 * travels in a header; the receiver answers the caller directly ({@link receiveForwarded}).
 */
export class SessionForwarder {
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: LogLine,
  ) {}

  /**
   * Forwards `msg` on `subject`; `undelivered` runs if nobody subscribes it (the call did not
   * arrive). `moved`: the call follows its session to its new owner (SESSION_FORWARD_MOVED_HEADER).
   */
  send(msg: Msg, subject: string, to: string, moved: boolean, undelivered: () => void): void {
    const h = headers();
    h.set(SESSION_FORWARD_REPLY_HEADER, msg.reply ?? "");
    if (moved) h.set(SESSION_FORWARD_MOVED_HEADER, "1");
    this.pending++;
    let request: Promise<Msg>;
    try {
      request = this.nc.request(subject, msg.data, { timeout: RECEIPT_TIMEOUT_MS, headers: h });
    } catch (e) {
      request = Promise.reject(e as Error);
    }
    request
      .then(
        () => undefined,
        (e: unknown) => {
          // nats.js: "503" = no subscriber, the only outcome that proves the call never arrived.
          if ((e as { code?: unknown }).code === "503") return undelivered();
          this.log(`forward to ${to}: no receipt (${(e as Error).message}); the caller's timeout decides`);
        },
      )
      .finally(() => {
        if (--this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  /** Resolves when no forward waits for its receipt (each waits at most RECEIPT_TIMEOUT_MS). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}

/**
 * A forwarded call as its caller sent it: the same body, and the caller's reply subject, which
 * replies, acknowledgements and stream chunks go to (the forwarder is not in the reply path).
 */
class ForwardedMsg implements Msg {
  readonly subject: string;
  readonly sid: number;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;

  constructor(
    private readonly nc: NatsConnection,
    msg: Msg,
    readonly reply: string | undefined,
  ) {
    this.subject = msg.subject;
    this.sid = msg.sid;
    this.data = msg.data;
    this.headers = msg.headers;
  }

  respond(payload?: Payload, opts?: PublishOptions): boolean {
    if (!this.reply) return false;
    this.nc.publish(this.reply, payload, opts);
    return true;
  }

  json<T>(): T {
    return JSON.parse(this.string()) as T;
  }

  string(): string {
    return new TextDecoder().decode(this.data);
  }
}

/** True for a forward from the session's previous owner while it moves (see SessionForwarder.send). */
export function isMovedForward(msg: Msg): boolean {
  return msg.headers?.has(SESSION_FORWARD_MOVED_HEADER) === true;
}

/**
 * The receiving side of `sfwd.…`: acknowledges the forwarder's request and returns the call with
 * the caller's reply subject. A message without the header (a forwarder that publishes with the
 * caller's reply subject itself) is returned as it came.
 */
export function receiveForwarded(nc: NatsConnection, msg: Msg): Msg {
  const reply = msg.headers?.get(SESSION_FORWARD_REPLY_HEADER);
  if (reply === undefined || !msg.headers?.has(SESSION_FORWARD_REPLY_HEADER)) return msg;
  if (msg.reply) {
    try {
      msg.respond(EMPTY);
    } catch {
      // The forwarder times out waiting and leaves the call to the caller's timeout: harmless.
    }
  }
  return new ForwardedMsg(nc, msg, reply === "" ? undefined : reply);
}
