import type { NatsConnection } from "nats";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
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
  const inFlight = new Array<number>(subjects.length).fill(0);
  const waiters: ((replica: number) => void)[] = [];
  let head = 0;
  let next = 0;
  let seq = 0;

  const acquire = (): number | Promise<number> => {
    for (let k = 0; k < subjects.length; k++) {
      const r = (next + k) % subjects.length;
      if (inFlight[r]! < perReplica) {
        next = r + 1;
        inFlight[r]!++;
        return r;
      }
    }
    return new Promise<number>((resolve) => waiters.push(resolve));
  };
  const release = (r: number): void => {
    if (head < waiters.length) {
      const w = waiters[head]!;
      waiters[head++] = undefined as never;
      if (head > 1024 && head * 2 > waiters.length) {
        waiters.splice(0, head);
        head = 0;
      }
      w(r); // the slot passes straight to the oldest waiter
    } else inFlight[r]!--;
  };

  return {
    name: `raw capped (FIFO, ${perReplica}/replica)`,
    call: async () => {
      const r = await acquire();
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
        release(r);
      }
    },
  };
}
