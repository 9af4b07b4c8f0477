import { describe, expect, it } from "vitest";
import {
  decodeHandoffOffer,
  decodeHandoffRequest,
  encodeHandoffOffer,
  encodeHandoffRequest,
} from "./session-wire.js";

describe("session hand-off offers", () => {
  it("round-trips an offer with the parked record's revision and bytes", () => {
    const offer = {
      sessionId: "chat-1",
      revision: 42,
      state: new Uint8Array([1, 2, 3]),
      exported: null,
    };
    const back = decodeHandoffOffer(encodeHandoffOffer(offer))!;
    expect({ ...back, state: [...back.state!] }).toEqual({ ...offer, state: [1, 2, 3] });
  });

  it("tells offers and hand-off requests apart on the one subject", () => {
    const request = encodeHandoffRequest({ sessionId: "s", to: "r2" });
    expect(decodeHandoffOffer(request)).toBeUndefined();
    const offer = encodeHandoffOffer({ sessionId: "s", revision: 0, state: null, exported: null });
    expect(() => decodeHandoffRequest(offer)).toThrow(/malformed session hand-off request/);
  });

  it("rejects malformed offers instead of guessing", () => {
    expect(decodeHandoffOffer(new Uint8Array([0xc1]))).toBeUndefined();
    const bad = encodeHandoffOffer({ sessionId: "s", revision: 1, state: null, exported: null });
    bad[bad.length - 1] = 0x07; // exported: a number, not bytes
    expect(decodeHandoffOffer(bad)).toBeUndefined();
  });
});
