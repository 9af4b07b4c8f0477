import type { Msg, NatsConnection, Subscription } from "nats";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  encode,
  errorToWire,
  type ControllerReply,
} from "@tsserve/protocol/internal";
import { ProtocolError } from "@tsserve/protocol";

/** One handler per controller op; a thrown TsserveError becomes the error reply. */
export type ControllerHandlers = {
  [K in keyof typeof CONTROLLER_OPS]: (body: unknown) => Promise<unknown>;
};

async function answer(
  msg: Msg,
  handler: (body: unknown) => Promise<unknown>,
  log: (l: string) => void,
  onReject: () => void,
): Promise<void> {
  let reply: ControllerReply<unknown>;
  try {
    // status and shutdown take `{}`; tolerate an empty body there too.
    const body = msg.data.length === 0 ? {} : decode(msg.data);
    reply = { ok: true, value: (await handler(body)) ?? null };
  } catch (e) {
    const wire = errorToWire(e);
    if (wire.code === "BAD_REQUEST") onReject();
    if (wire.code === "INTERNAL")
      log(`ctl request on ${msg.subject} failed: ${(e as Error).stack ?? String(e)}`);
    reply = { ok: false, error: wire };
  }
  if (!msg.reply) {
    log(`ctl request on ${msg.subject} has no reply subject; dropped the answer`);
    return;
  }
  try {
    msg.respond(encode(reply));
  } catch (e) {
    log(`could not reply on ${msg.subject}: ${(e as Error).message}`);
  }
}

/**
 * Subscribes `ctl.<op>` for every op in CONTROLLER_OPS and answers each request with a
 * ControllerReply. Requests are handled concurrently; a bad one gets a BAD_REQUEST reply and
 * never stops the subscription. Returns the subscriptions (unsubscribe on losing leadership).
 */
export function serveControllerApi(
  nc: NatsConnection,
  prefix: string,
  handlers: ControllerHandlers,
  log: (line: string) => void,
  onReject: () => void,
): Subscription[] {
  return (Object.keys(CONTROLLER_OPS) as (keyof typeof CONTROLLER_OPS)[]).map((op) =>
    nc.subscribe(controllerSubject(prefix, CONTROLLER_OPS[op]), {
      callback: (err, msg) => {
        if (err) {
          log(`ctl.${op} subscription error: ${err.message}`);
          return;
        }
        void answer(msg, handlers[op], log, onReject);
      },
    }),
  );
}

/** Subscribes a subject whose messages are msgpack bodies; undecodable ones are logged and dropped. */
export function subscribeDecoded(
  nc: NatsConnection,
  subject: string,
  onBody: (body: unknown, subject: string) => void,
  log: (line: string) => void,
  reject: (line: string) => void,
): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        log(`subscription ${subject} error: ${err.message}`);
        return;
      }
      try {
        onBody(decode(msg.data), msg.subject);
      } catch (e) {
        const what = e instanceof ProtocolError ? e.message : ((e as Error).stack ?? String(e));
        reject(`dropping message on ${msg.subject}: ${what}`);
      }
    },
  });
}
