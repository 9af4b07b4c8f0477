import { describe, expect, it } from "vitest";
import { encode } from "./codec.js";
import { decodeRequest, encodeRequest } from "./data-plane.js";
import { MAX_NESTING_DEPTH } from "./encode-diagnosis.js";
import { jsonReplyBytes, parseJsonArgs } from "./json-call.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const codeAndMessage = (f: () => unknown): [string, string] => {
  try {
    f();
  } catch (e) {
    return [(e as { code: string }).code, (e as Error).message];
  }
  throw new Error("did not throw");
};

describe("JSON requests (the proxy's fast path)", () => {
  it("carry the body bytes as the one argument and say so in the flags", () => {
    const body = bytes('{"a":1}');
    const decoded = decodeRequest(
      encodeRequest({
        requestId: "r",
        method: "m",
        args: [body],
        sessionId: null,
        stream: false,
        json: true,
      }),
    );
    expect(decoded.json).toBe(true);
    expect(Buffer.from(decoded.args[0] as Uint8Array).toString()).toBe('{"a":1}');
  });

  it("reject a JSON request whose args are not [bytes]", () => {
    expect(codeAndMessage(() => decodeRequest(encode([1, "r", "m", [{ a: 1 }], null, 4])))).toEqual([
      "BAD_REQUEST",
      "a JSON request's args must be [body bytes]",
    ]);
    expect(codeAndMessage(() => decodeRequest(encode([1, "r", "m", [], null, 8])))[1]).toMatch(
      /flags must be an integer from 0 to 7/,
    );
  });
});

describe("parseJsonArgs", () => {
  it("parses the body; no body or only whitespace is one undefined argument", () => {
    expect(parseJsonArgs(bytes('{"x":[1,2]}'))).toEqual([{ x: [1, 2] }]);
    expect(parseJsonArgs(bytes("7"))).toEqual([7]);
    expect(parseJsonArgs(new Uint8Array(0))).toEqual([undefined]);
    expect(parseJsonArgs(bytes(" \n"))).toEqual([undefined]);
  });

  it("answers invalid JSON with a BAD_REQUEST that quotes the parser", () => {
    const [code, message] = codeAndMessage(() => parseJsonArgs(bytes("{nope")));
    expect(code).toBe("BAD_REQUEST");
    expect(message).toMatch(/^request body is not valid JSON \(5 bytes\): .+; send a JSON value or no body$/);
  });

  it("refuses nesting deeper than MAX_NESTING_DEPTH, and takes it up to there", () => {
    const nested = (d: number): Uint8Array => bytes("[".repeat(d) + "]".repeat(d));
    expect(parseJsonArgs(nested(MAX_NESTING_DEPTH))).toHaveLength(1);
    const [code, message] = codeAndMessage(() => parseJsonArgs(nested(100_000)));
    expect(code).toBe("BAD_REQUEST");
    expect(message).toBe(
      `request body is nested 100000 levels deep; tsserve takes values nested up to ${MAX_NESTING_DEPTH} levels`,
    );
    const deepObject = bytes('{"a":'.repeat(MAX_NESTING_DEPTH + 1) + "1" + "}".repeat(MAX_NESTING_DEPTH + 1));
    expect(codeAndMessage(() => parseJsonArgs(deepObject))[1]).toMatch(/nested 1001 levels deep/);
  });
});

describe("jsonReplyBytes", () => {
  it("is the JSON text of the value; undefined and functions become null", () => {
    expect(Buffer.from(jsonReplyBytes({ a: "é" }, "D.m")).toString()).toBe('{"a":"é"}');
    expect(Buffer.from(jsonReplyBytes(undefined, "D.m")).toString()).toBe("null");
    expect(Buffer.from(jsonReplyBytes(() => 1, "D.m")).toString()).toBe("null");
  });

  it("names the method when the value is not JSON-serialisable", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    const [code, message] = codeAndMessage(() => jsonReplyBytes(cyclic, "Api.m"));
    expect(code).toBe("INTERNAL");
    expect(message).toMatch(/^result of Api\.m is not JSON-serialisable: /);
    expect(codeAndMessage(() => jsonReplyBytes(10n, "Api.m"))[1]).toMatch(/BigInt/);
  });
});
