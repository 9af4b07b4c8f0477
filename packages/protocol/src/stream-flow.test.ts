import { describe, expect, it } from "vitest";
import { encode } from "./codec.js";
import { decodeReply, encodeReply, ReplyKind } from "./data-plane.js";
import {
  CreditKind,
  decodeCredit,
  decodeStreamFlow,
  encodeCredit,
  encodeStreamCancel,
  encodeStreamFlow,
  type StreamFlow,
} from "./stream-flow.js";

const flow: StreamFlow = {
  creditSubject: "tsserve.credit.app.Dep.r1.a7",
  windowChunks: 256,
  windowBytes: 2 * 1024 * 1024,
  creditTimeoutMs: 30_000,
};

describe("stream flow wire", () => {
  it("carries the flow in STREAM_START, and stays readable without it (older replicas)", () => {
    expect(decodeReply(encodeReply(ReplyKind.STREAM_START, 2, encodeStreamFlow(flow)))).toEqual({
      kind: ReplyKind.STREAM_START,
      queueLen: 2,
      flow,
    });
    expect(decodeReply(encodeReply(ReplyKind.STREAM_START, 1))).toEqual({
      kind: ReplyKind.STREAM_START,
      queueLen: 1,
    });
  });

  it("bounds the flow a replica announces: plain subject, sane window and timeout", () => {
    const bad: unknown[] = [
      "not an array",
      ["a.b", 1, 1024],
      ["tsserve.credit.>", 1, 1024, 1000],
      ["tsserve..x", 1, 1024, 1000],
      ["x".repeat(300), 1, 1024, 1000],
      ["a.b", 0, 1024, 1000],
      ["a.b", 1.5, 1024, 1000],
      ["a.b", 1, 10, 1000],
      ["a.b", 1, 1024, 1],
      ["a.b", 1, 1024, 10_000_000],
    ];
    for (const b of bad) expect(() => decodeStreamFlow(b), JSON.stringify(b)).toThrow(/stream/);
    expect(() => decodeReply(encodeReply(ReplyKind.STREAM_START, 0, ["a b", 1, 1024, 1000]))).toThrow(
      expect.objectContaining({ code: "BAD_REQUEST" }),
    );
  });

  it("round-trips cumulative grants and CANCEL; refuses anything else", () => {
    expect(decodeCredit(encodeCredit(300, 31_000))).toEqual({
      kind: CreditKind.GRANT,
      chunks: 300,
      bytes: 31_000,
    });
    expect(decodeCredit(encodeStreamCancel())).toEqual({ kind: CreditKind.CANCEL });
    for (const b of [encode({}), encode([7]), encode([0, -1, 0]), encode([0, 1]), encode([0, 1, "x"])])
      expect(() => decodeCredit(b)).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
  });
});
