import type { NatsConnection } from "nats";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import { FifoSlots } from "./fifo-slots.js";
import type { Mode } from "./interleaved-runs.js";

/**
 * The limit for a deployment at `maxOngoingRequests` = k: raw NATS request/reply (`nc.request()`,
 * no tsserve client code) behind a perfect FIFO queue that keeps at most k calls in flight per
 * replica and hands each freed slot to the oldest waiting call. Its latency includes the queue
 * wait, as a handle's does. Nothing that respects the cap can be fairer or send sooner.
 */
export function rawCappedMode(
  nc: NatsConnection,
  subjects: readonly string[],
  perReplica: number,
  args: unknown[] = [],
): Mode {
  const slots = new FifoSlots(subjects.length, perReplica);
  let seq = 0;

  return {
    name: `raw capped (FIFO, ${perReplica}/replica)`,
    call: async () => {
      const r = await slots.acquire();
      try {
        const body = encodeRequest({
          requestId: `cap-${++seq}`,
          method: "__call__",
          args,
          sessionId: null,
          stream: false,
        });
        const m = await nc.request(subjects[r]!, body, { timeout: 10_000 });
        const reply = decodeReply(m.data);
        if (reply.kind !== ReplyKind.OK) throw new Error(`raw capped call got reply kind ${reply.kind}`);
      } finally {
        slots.release(r);
      }
    },
  };
}
