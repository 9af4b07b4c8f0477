import type { NatsConnection } from "nats";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import type { Mode } from "./interleaved-runs.js";

/**
 * Raw NATS baselines through `nc.request()`: the same replicas, the same valid msgpack request (so a
 * replica does exactly the work of a handle's call), no tsserve client code. Calls go round-robin
 * over `subjects`. The limit the suites divide by is the hand-written dispatcher (raw-dispatcher.ts).
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
