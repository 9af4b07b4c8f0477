import type { Msg } from "nats";
import { describe, expect, it } from "vitest";
import { decodeReply, ReplyKind } from "@tsserve/protocol/internal";
import { ACK_AFTER_MS, AcceptanceAcks } from "./acceptance-acks.js";

/** A request message that records what it was answered. */
function request(): Msg & { answers: Uint8Array[] } {
  const answers: Uint8Array[] = [];
  return {
    reply: "_INBOX.test",
    answers,
    respond: (data?: Uint8Array) => {
      answers.push(data!);
      return true;
    },
  } as unknown as Msg & { answers: Uint8Array[] };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("AcceptanceAcks", () => {
  it("acknowledges a call still running after ACK_AFTER_MS, once, with the queue length", async () => {
    const acks = new AcceptanceAcks(() => 3);
    const slow = request();
    acks.track(slow);
    await sleep(ACK_AFTER_MS * 2 + 20);
    expect(slow.answers.length).toBe(1);
    const reply = decodeReply(slow.answers[0]!);
    expect(reply.kind).toBe(ReplyKind.ACCEPTED);
    expect(reply.queueLen).toBe(3);
    await sleep(ACK_AFTER_MS * 3);
    expect(slow.answers.length).toBe(1);
    acks.done(slow);
    await sleep(ACK_AFTER_MS * 3);
    expect(acks.ticking).toBe(false);
    acks.close();
  });

  it("starts no timer for calls answered within the turn they arrived in", async () => {
    const acks = new AcceptanceAcks(() => 0);
    const fast = Array.from({ length: 5 }, request);
    for (const m of fast) {
      acks.track(m);
      acks.done(m);
    }
    await turn();
    expect(acks.ticking).toBe(false);
    await sleep(ACK_AFTER_MS * 3);
    expect(fast.every((m) => m.answers.length === 0)).toBe(true);
    // One call that outlives its turn starts it.
    const slow = request();
    acks.track(slow);
    await turn();
    expect(acks.ticking).toBe(true);
    acks.done(slow);
    acks.close();
  });

  it("starts nothing after close", async () => {
    const acks = new AcceptanceAcks(() => 0);
    acks.track(request());
    acks.close();
    await turn();
    expect(acks.ticking).toBe(false);
  });
});
