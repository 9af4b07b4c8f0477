import { describe, expect, it } from "vitest";
import { encode } from "./codec.js";
import { decodeReply, decodeRequest, encodeReply, encodeRequest, ReplyKind } from "./data-plane.js";

describe("data-plane codec", () => {
  it("round-trips a request with its metadata in one body", () => {
    const req = {
      requestId: "h1.7",
      method: "reply",
      args: [{ text: "hi" }, 3],
      sessionId: "user_123",
      stream: true,
    };
    expect(decodeRequest(encodeRequest(req))).toEqual(req);
  });

  it("carries the stream and acknowledgement flags in one field, and refuses unknown bits", () => {
    const base = { requestId: "r", method: "m", args: [], sessionId: null };
    expect(decodeRequest(encodeRequest({ ...base, stream: false, acks: true }))).toEqual({
      ...base,
      stream: false,
      acks: true,
    });
    expect(decodeRequest(encodeRequest({ ...base, stream: true }))).toEqual({ ...base, stream: true });
    expect(decodeReply(encodeReply(ReplyKind.ACCEPTED, 2))).toEqual({
      kind: ReplyKind.ACCEPTED,
      queueLen: 2,
    });
    for (const flags of [4, -1, 1.5, "1"]) {
      expect(() => decodeRequest(encode([1, "r", "m", [], null, flags]))).toThrow(
        expect.objectContaining({ code: "BAD_REQUEST" }),
      );
    }
  });

  it("round-trips each reply kind with the queue length", () => {
    expect(decodeReply(encodeReply(ReplyKind.OK, 3, { a: 1 }))).toEqual({
      kind: ReplyKind.OK,
      queueLen: 3,
      value: { a: 1 },
    });
    expect(decodeReply(encodeReply(ReplyKind.REJECTED, 5))).toEqual({
      kind: ReplyKind.REJECTED,
      queueLen: 5,
    });
    const err = { name: "UserCodeError", code: "USER_CODE", message: "boom", retryable: false };
    expect(decodeReply(encodeReply(ReplyKind.ERROR, 0, err))).toEqual({
      kind: ReplyKind.ERROR,
      queueLen: 0,
      error: err,
    });
  });

  it("rejects malformed bodies with BAD_REQUEST", () => {
    const bad = [
      new Uint8Array([]),
      new Uint8Array([0xc1]),
      encode({ not: "an array" }),
      encode([1, "", "m", [], null, 0]),
      encode([1, "id", "m", "not-args", null, 0]),
      encode([2, "id", "m", [], null, 0]),
      encode([1, "id", "m", [], 42, 0]),
    ];
    for (const b of bad)
      expect(() => decodeRequest(b)).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
    expect(isProtocolErrorCode(() => decodeReply(encode([99, 0])))).toBe(true);
    expect(isProtocolErrorCode(() => decodeReply(encode([0, "x"])))).toBe(true);
  });
});

function isProtocolErrorCode(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    return (e as { code?: string }).code === "BAD_REQUEST";
  }
}
