/**
 * MurmurHash3 x64_128, first 64-bit word (h1) only, in 32-bit arithmetic.
 *
 * This is the Ray-compatible ring hash (`mmh3.hash64(key, seed)[0]`, unsigned). JavaScript numbers
 * cannot hold 64-bit values exactly and BigInt allocates, so every 64-bit value is a pair of uint32
 * halves kept in module-level registers: hashing a key allocates nothing. The result is read from
 * {@link hashHi} / {@link hashLo} right after the call, before any other hash runs.
 */

/** Ray's fixed seed; changing it would silently remap every session. */
export const CONSISTENT_HASH_SEED = 0xf9b4ca77;

// 64-bit scratch registers: (RH, RL) is the result of the last mul64/add64/fmix64.
let RH = 0;
let RL = 0;

/** (ah,al) * (bh,bl) mod 2^64 → (RH, RL). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  // Full 32x32 → 64 product of the low words from 16-bit pieces (each partial product < 2^32).
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  RL = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const hiLow = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  // Cross terms only matter mod 2^32; ToUint32 reduces the exact sum.
  RH = (hiLow + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah,al) + (bh,bl) mod 2^64 → (RH, RL). */
function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  RL = lo >>> 0;
  RH = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate left by r (0 < r < 32) → (RH, RL). */
function rotl64(h: number, l: number, r: number): void {
  RH = ((h << r) | (l >>> (32 - r))) >>> 0;
  RL = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** MurmurHash3's 64-bit finaliser → (RH, RL). */
function fmix64(h: number, l: number): void {
  l = (l ^ (h >>> 1)) >>> 0; // k ^= k >>> 33
  mul64(h, l, 0xff51afd7, 0xed558ccd);
  h = RH;
  l = (RL ^ (h >>> 1)) >>> 0;
  mul64(h, l, 0xc4ceb9fe, 0x1a85ec53);
  h = RH;
  RL = (RL ^ (h >>> 1)) >>> 0;
  RH = h;
}

// c1 = 0x87c37b91114253d5, c2 = 0x4cf5ad432745937f
const C1H = 0x87c37b91;
const C1L = 0x114253d5;
const C2H = 0x4cf5ad43;
const C2L = 0x2745937f;

/** High 32 bits of the last {@link murmur3x64h1} result. */
export let hashHi = 0;
/** Low 32 bits of the last {@link murmur3x64h1} result. */
export let hashLo = 0;

function readLo(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/**
 * Hashes `bytes[0..len)`; the unsigned 64-bit h1 lands in {@link hashHi} / {@link hashLo}.
 * `len` lets callers hash a prefix of a reused buffer.
 */
export function murmur3x64h1(
  bytes: Uint8Array,
  len: number = bytes.length,
  seed = CONSISTENT_HASH_SEED,
): void {
  let h1h = 0;
  let h1l = seed >>> 0;
  let h2h = 0;
  let h2l = seed >>> 0;
  const blocks = len - (len % 16);
  for (let i = 0; i < blocks; i += 16) {
    // k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1
    mul64(readLo(bytes, i + 4), readLo(bytes, i), C1H, C1L);
    rotl64(RH, RL, 31);
    mul64(RH, RL, C2H, C2L);
    h1h = (h1h ^ RH) >>> 0;
    h1l = (h1l ^ RL) >>> 0;
    // h1 = rotl(h1, 27) + h2; h1 = h1 * 5 + 0x52dce729
    rotl64(h1h, h1l, 27);
    add64(RH, RL, h2h, h2l);
    mul64(RH, RL, 0, 5);
    add64(RH, RL, 0, 0x52dce729);
    h1h = RH;
    h1l = RL;
    // k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2  (rotl 33 = swap words, then rotl 1)
    mul64(readLo(bytes, i + 12), readLo(bytes, i + 8), C2H, C2L);
    rotl64(RL, RH, 1);
    mul64(RH, RL, C1H, C1L);
    h2h = (h2h ^ RH) >>> 0;
    h2l = (h2l ^ RL) >>> 0;
    // h2 = rotl(h2, 31) + h1; h2 = h2 * 5 + 0x38495ab5
    rotl64(h2h, h2l, 31);
    add64(RH, RL, h1h, h1l);
    mul64(RH, RL, 0, 5);
    add64(RH, RL, 0, 0x38495ab5);
    h2h = RH;
    h2l = RL;
  }
  const rem = len - blocks;
  if (rem > 8) {
    let kh = 0;
    let kl = 0;
    for (let j = rem - 1; j >= 8; j--) {
      const v = bytes[blocks + j]!;
      if (j >= 12) kh = ((kh << 8) | v) >>> 0;
      else kl = ((kl << 8) | v) >>> 0;
    }
    mul64(kh, kl, C2H, C2L);
    rotl64(RL, RH, 1);
    mul64(RH, RL, C1H, C1L);
    h2h = (h2h ^ RH) >>> 0;
    h2l = (h2l ^ RL) >>> 0;
  }
  if (rem > 0) {
    let kh = 0;
    let kl = 0;
    for (let j = Math.min(rem, 8) - 1; j >= 0; j--) {
      const v = bytes[blocks + j]!;
      if (j >= 4) kh = ((kh << 8) | v) >>> 0;
      else kl = ((kl << 8) | v) >>> 0;
    }
    mul64(kh, kl, C1H, C1L);
    rotl64(RH, RL, 31);
    mul64(RH, RL, C2H, C2L);
    h1h = (h1h ^ RH) >>> 0;
    h1l = (h1l ^ RL) >>> 0;
  }
  // Finalisation. Lengths never reach 2^32, so the high word of `len` is 0.
  h1l = (h1l ^ len) >>> 0;
  h2l = (h2l ^ len) >>> 0;
  add64(h1h, h1l, h2h, h2l);
  h1h = RH;
  h1l = RL;
  add64(h2h, h2l, h1h, h1l);
  h2h = RH;
  h2l = RL;
  fmix64(h1h, h1l);
  h1h = RH;
  h1l = RL;
  fmix64(h2h, h2l);
  add64(h1h, h1l, RH, RL);
  hashHi = RH;
  hashLo = RL;
}

// One growing scratch buffer for key bytes: keys are hashed one at a time on one thread.
let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/** Hashes the UTF-8 bytes of `key`; the result lands in {@link hashHi} / {@link hashLo}. */
export function hashKey(key: string): void {
  const n = key.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes.
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3);
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    scratch[i] = c;
  }
  // Session ids are nearly always ASCII; the encoder handles the rest (and lone surrogates as U+FFFD,
  // like Python's str.encode would refuse to: such keys cannot come from Ray anyway).
  const len = ascii ? n : encoder.encodeInto(key, scratch).written;
  murmur3x64h1(scratch, len);
}

/** The hash of `key` as an unsigned BigInt, for tests and diagnostics (never on the hot path). */
export function hashKeyBigInt(key: string): bigint {
  hashKey(key);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}
