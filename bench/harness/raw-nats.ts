import { createInbox, type NatsConnection } from "nats";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import type { Mode } from "./interleaved-runs.js";

/**
 * Raw NATS baselines: the same replicas, the same valid msgpack request (so a replica does exactly
 * the work of a handle's call), no tsserve client code. Calls go round-robin over `subjects`.
 */

function requestBody(id: string, args: unknown[]): Uint8Array {
  // A fresh request id per call, as the handle sends.
  return encodeRequest({ requestId: id, method: "__call__", args, sessionId: null, stream: false });
}

function checkOk(data: Uint8Array): unknown {
  const reply = decodeReply(data);
  if (reply.kind !== ReplyKind.OK) throw new Error(`raw call got reply kind ${reply.kind}`);
  return reply.value;
}

/** `nc.request()`: the NATS client's own request/reply API (a per-request timer and promise). */
export function rawRequestMode(nc: NatsConnection, subjects: readonly string[], args: unknown[] = []): Mode {
  let seq = 0;
  return {
    name: "raw request()",
    call: async (_w, i) => {
      const m = await nc.request(subjects[i % subjects.length]!, requestBody(`raw-${++seq}`, args), {
        timeout: 10_000,
      });
      checkOk(m.data);
    },
  };
}

/**
 * The floor of request/reply over nats.js: one wildcard inbox subscription with a callback and a
 * publish with a reply subject per call; no timers. Nothing a client library can do is cheaper, so
 * this is the limit the handle is held to.
 */
export function rawFloorMode(nc: NatsConnection, subjects: readonly string[], args: unknown[] = []): Mode {
  const inbox = createInbox();
  const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => {
      const w = waiting.get(msg.subject);
      if (w === undefined) return;
      waiting.delete(msg.subject);
      if (err) return w.reject(err);
      try {
        w.resolve(checkOk(msg.data));
      } catch (e) {
        w.reject(e);
      }
    },
  });
  let seq = 0;
  return {
    name: "raw floor",
    call: (_w, i) =>
      new Promise((resolve, reject) => {
        const n = ++seq;
        const reply = `${inbox}.${n}`;
        waiting.set(reply, { resolve, reject });
        nc.publish(subjects[i % subjects.length]!, requestBody(`raw-${n}`, args), { reply });
      }),
  };
}
