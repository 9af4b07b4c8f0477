import { describe, expect, it } from "vitest";
import { decode, encode } from "./codec.js";
import { MAX_NESTING_DEPTH } from "./encode-diagnosis.js";
import { isBadRequestError } from "./errors.js";

function nested(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function thrown(fn: () => unknown): Error & { code?: string; data?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("codec", () => {
  it("carries values nested up to MAX_NESTING_DEPTH", () => {
    const v = nested(MAX_NESTING_DEPTH);
    expect(decode(encode(v))).toEqual(v);
  });

  it("refuses deep nesting with BadRequestError naming the depth (reason depth), not a RangeError", () => {
    const e = thrown(() => encode(nested(100_000), "the call's arguments"));
    expect(isBadRequestError(e)).toBe(true);
    expect(e.name).toBe("BadRequestError");
    expect(e.message).toBe(
      `the call's arguments cannot be encoded: it is nested 100000 levels deep; the wire carries up to about ${MAX_NESTING_DEPTH}`,
    );
    expect(e.data).toEqual({ reason: "depth" });
    // The encoder is still usable afterwards.
    expect(decode(encode({ ok: [1, 2] }))).toEqual({ ok: [1, 2] });
  });

  it("refuses cycles with the path that closes them (reason cycle)", () => {
    const o: Record<string, unknown> = { a: [1, { b: null }] };
    ((o["a"] as unknown[])[1] as Record<string, unknown>)["b"] = o;
    const e = thrown(() => encode(o));
    expect(e.message).toBe(
      "message cannot be encoded: it is cyclic: $.a[1].b refers back to an enclosing value",
    );
    expect(e.data).toEqual({ reason: "cycle" });
    const m = new Map<string, unknown>();
    m.set("self", m);
    expect(thrown(() => encode([m])).message).toMatch(/cyclic: \$\[0\]\.get\(self\) refers back/);
  });

  it("encodes shared (acyclic) references twice", () => {
    const shared = { s: 1 };
    expect(decode(encode([shared, { again: shared }]))).toEqual([{ s: 1 }, { again: { s: 1 } }]);
  });

  it("refuses values the wire cannot carry (reason type), quoting the encoder", () => {
    for (const bad of [Symbol("x"), 2n ** 80n]) {
      const e = thrown(() => encode([bad]));
      expect(isBadRequestError(e)).toBe(true);
      expect(e.message).toMatch(/^message cannot be encoded: it holds a value the wire cannot carry \(.+\)$/);
      expect(e.data).toEqual({ reason: "type" });
    }
    const getter = {
      get boom(): never {
        throw new Error("getter threw");
      },
    };
    expect(thrown(() => encode(getter)).message).toMatch(/getter threw/);
  });

  it("reports a message too deep to decode as BAD_REQUEST, not a stack overflow", () => {
    const depth = 200_000;
    const bytes = new Uint8Array(depth + 1).fill(0x91); // fixarray of one element, repeated
    bytes[depth] = 0x90; // the empty array at the bottom
    const e = thrown(() => decode(bytes));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toBe(`message of ${depth + 1} bytes is nested too deeply to decode`);
  });
});
