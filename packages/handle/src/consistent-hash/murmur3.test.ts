import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CONSISTENT_HASH_SEED, hashHi, hashKey, hashKeyBigInt, hashLo, murmur3x64h1 } from "./murmur3.js";

// The reference library (slow, allocating) that docs/design.md names as the source of truth.
const murmurLib = createRequire(import.meta.url)("murmurhash3js-revisited") as {
  x64: { hash128(bytes: Uint8Array, seed: number): string };
};
const utf8 = new TextEncoder();
const libH1 = (key: string): bigint =>
  BigInt(`0x${murmurLib.x64.hash128(utf8.encode(key), CONSISTENT_HASH_SEED).slice(0, 16)}`);

// Deterministic pseudo-random keys: a failure reproduces exactly.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("murmur3x64h1 (Ray's ring hash)", () => {
  it("matches Ray's golden vectors", () => {
    expect(hashKeyBigInt("hello")).toBe(8722826225335161032n);
    expect(hashKeyBigInt("user_123")).toBe(13215600952541425930n);
    expect(libH1("hello")).toBe(8722826225335161032n);
  });

  it("is deterministic, in [0, 2^64) and separates close keys", () => {
    const a = hashKeyBigInt("sess_0000");
    expect(hashKeyBigInt("sess_0000")).toBe(a);
    expect(hashKeyBigInt("sess_0001")).not.toBe(a);
    for (const k of ["", "x", "sess_0000", "a".repeat(100)]) {
      const h = hashKeyBigInt(k);
      expect(h >= 0n && h < 2n ** 64n).toBe(true);
    }
  });

  it("agrees with murmurhash3js-revisited on every tail length and on non-ASCII keys", () => {
    const rnd = lcg(7);
    let checked = 0;
    for (let len = 0; len <= 70; len++) {
      for (let rep = 0; rep < 12; rep++) {
        // Every third key mixes in 2- and 3-byte UTF-8 characters and an emoji (a surrogate pair).
        const wide = rep % 3 === 0;
        let key = "";
        for (let i = 0; i < len; i++) key += String.fromCharCode(32 + Math.floor(rnd() * (wide ? 3000 : 95)));
        if (wide) key += "😀";
        expect(hashKeyBigInt(key), `key ${JSON.stringify(key)}`).toBe(libH1(key));
        checked++;
      }
    }
    expect(checked).toBe(71 * 12);
  });

  it("hashes a prefix of a reused buffer, and with another seed, like the library", () => {
    const bytes = utf8.encode("user_123-and-some-trailing-bytes");
    murmur3x64h1(bytes, 8);
    expect((BigInt(hashHi) << 32n) | BigInt(hashLo)).toBe(13215600952541425930n);
    murmur3x64h1(bytes, bytes.length, 42);
    const lib = BigInt(`0x${murmurLib.x64.hash128(bytes, 42).slice(0, 16)}`);
    expect((BigInt(hashHi) << 32n) | BigInt(hashLo)).toBe(lib);
    hashKey("hello");
    expect(hashHi >>> 0).toBe(hashHi);
  });
});
