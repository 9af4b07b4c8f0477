import { encode } from "@tsserve/protocol/internal";
import { seededRandom } from "@tsserve/test-utils";

/** One bad message body the fuzzer sends, with a name for the report. */
export interface FuzzPayload {
  name: string;
  bytes: Uint8Array;
}

/** Random bytes from a seeded generator, so a failure replays with the same bytes. */
export function randomBytes(length: number, random: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/**
 * The bad bodies every subject gets: empty, random bytes of several sizes, a valid message cut in
 * half, well-formed msgpack of the wrong type or shape, and hostile msgpack headers (deep nesting,
 * huge declared lengths) that a naive decoder could choke on. `valid` is a correct body for the
 * subject, used to build the truncated and wrong-type variants.
 */
export function fuzzPayloads(valid: unknown, seed = 7): FuzzPayload[] {
  const random = seededRandom(seed);
  const good = encode(valid);
  const deep = new Uint8Array(20_001);
  deep.fill(0x91, 0, 20_000); // 20 000 nested one-element arrays…
  deep[20_000] = 0xc0; // …around a nil
  return [
    { name: "empty", bytes: new Uint8Array(0) },
    { name: "random-1", bytes: randomBytes(1, random) },
    { name: "random-16", bytes: randomBytes(16, random) },
    { name: "random-300", bytes: randomBytes(300, random) },
    { name: "random-4096", bytes: randomBytes(4096, random) },
    { name: "truncated-valid", bytes: good.subarray(0, Math.max(1, Math.floor(good.length / 2))) },
    { name: "valid-plus-garbage", bytes: new Uint8Array([...good, 0xc1, 0xff]) },
    { name: "json-text", bytes: new TextEncoder().encode(JSON.stringify(valid)) },
    { name: "msgpack-nil", bytes: encode(null) },
    { name: "msgpack-number", bytes: encode(42) },
    { name: "msgpack-string", bytes: encode("hello") },
    { name: "msgpack-array", bytes: encode([1, "two", null, { three: 3 }]) },
    { name: "msgpack-wrong-types", bytes: encode(wrongTypes(valid)) },
    { name: "msgpack-proto-pollution", bytes: encode(JSON.parse('{"__proto__":{"polluted":1}}')) },
    { name: "deep-nesting-20000", bytes: deep },
    { name: "array32-4G-declared", bytes: new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]) },
    { name: "str32-4G-declared", bytes: new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]) },
    { name: "bin32-4G-declared", bytes: new Uint8Array([0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]) },
    { name: "reserved-0xc1", bytes: new Uint8Array([0xc1]) },
    { name: "ext-timestamp-bad", bytes: new Uint8Array([0xd7, 0xff, 0xff, 0xff, 0xff, 0xff]) },
  ];
}

/** The same shape with every leaf replaced by a value of another type. */
function wrongTypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => (i % 2 === 0 ? { bad: true } : wrongTypes(v)));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, k.length % 2 === 0 ? -1 : [k]]));
  }
  if (typeof value === "string") return 12345;
  if (typeof value === "number") return "not a number";
  return "x";
}
