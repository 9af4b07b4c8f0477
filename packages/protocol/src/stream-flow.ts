import { decode, encode } from "./codec.js";
import { ProtocolError } from "./errors.js";

/**
 * Flow control of streamed calls (internals.md "Streams and credit"). The replica sends at most a
 * window of chunks and bytes ahead of what the consumer has taken; the consumer grants more by
 * publishing cumulative credit messages to a subject the replica names in STREAM_START. Both
 * messages are decoded and bounded here, once.
 */

/** Chunks a replica sends ahead of the consumer. */
export const DEFAULT_STREAM_WINDOW_CHUNKS = 256;
/** Encoded bytes a replica sends ahead of the consumer (one chunk over it may still go out). */
export const DEFAULT_STREAM_WINDOW_BYTES = 2 * 1024 * 1024;
/**
 * A blocked stream that hears nothing from its consumer (no credit, no keepalive) for this long
 * ends: the consumer is gone (process died, connection cut) and must not hold a replica slot forever.
 */
export const DEFAULT_STREAM_CREDIT_TIMEOUT_MS = 30_000;
/** The longest a handle waits between keepalive credits of an open stream. */
export const MAX_STREAM_KEEPALIVE_MS = 5_000;

/** What STREAM_START announces: where and how the consumer grants credit. */
export interface StreamFlow {
  /** Subject the consumer publishes credit messages to (one per stream). */
  creditSubject: string;
  /** The most chunks the replica sends beyond the consumer's credit. */
  windowChunks: number;
  /** The most encoded reply bytes the replica sends beyond the consumer's credit. */
  windowBytes: number;
  /** Silence from the consumer after which the replica ends a blocked stream. */
  creditTimeoutMs: number;
}

/** Kinds of credit message. */
export const CreditKind = {
  /** `[GRANT, chunks, bytes]`: the consumer has taken `chunks` chunks of `bytes` encoded bytes in all. */
  GRANT: 0,
  /** `[CANCEL]`: the consumer is gone (cancelled, timed out, closed); stop the generator. */
  CANCEL: 1,
} as const;

/** A decoded credit message. Grants are cumulative, so a lost one is healed by the next. */
export type Credit =
  { kind: typeof CreditKind.GRANT; chunks: number; bytes: number } | { kind: typeof CreditKind.CANCEL };

// A subject without wildcards or empty tokens, short enough to be sane.
const SUBJECT = /^[A-Za-z0-9_\-:@+=~]+(\.[A-Za-z0-9_\-:@+=~]+)*$/;

function intIn(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new ProtocolError(`stream ${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

/** The STREAM_START payload: `[creditSubject, windowChunks, windowBytes, creditTimeoutMs]`. */
export function encodeStreamFlow(f: StreamFlow): unknown[] {
  return [f.creditSubject, f.windowChunks, f.windowBytes, f.creditTimeoutMs];
}

/** Decodes and bounds a STREAM_START payload (a handle trusts no peer with its publish subject). */
export function decodeStreamFlow(v: unknown): StreamFlow {
  if (!Array.isArray(v) || v.length < 4) throw new ProtocolError("stream flow must be a 4-element array");
  const [creditSubject, windowChunks, windowBytes, creditTimeoutMs] = v as unknown[];
  if (typeof creditSubject !== "string" || creditSubject.length > 256 || !SUBJECT.test(creditSubject))
    throw new ProtocolError(`stream credit subject is not a plain NATS subject: ${String(creditSubject)}`);
  return {
    creditSubject,
    windowChunks: intIn("window (chunks)", windowChunks, 1, 1 << 16),
    windowBytes: intIn("window (bytes)", windowBytes, 1024, 1 << 30),
    creditTimeoutMs: intIn("credit timeout", creditTimeoutMs, 100, 3_600_000),
  };
}

/** A cumulative grant: the consumer has taken `chunks` chunks and `bytes` encoded bytes so far. */
export function encodeCredit(chunks: number, bytes: number): Uint8Array {
  return encode([CreditKind.GRANT, chunks, bytes]);
}

const CANCEL_BYTES = encode([CreditKind.CANCEL]);

/** The consumer is gone: the replica stops the generator and ends the call. */
export function encodeStreamCancel(): Uint8Array {
  return CANCEL_BYTES;
}

/** Decodes and bounds a credit message; anything else is a ProtocolError (BAD_REQUEST). */
export function decodeCredit(bytes: Uint8Array): Credit {
  const t = decode(bytes);
  if (!Array.isArray(t) || t.length < 1) throw new ProtocolError("credit must be a msgpack array");
  if (t[0] === CreditKind.CANCEL) return { kind: CreditKind.CANCEL };
  if (t[0] !== CreditKind.GRANT || t.length < 3)
    throw new ProtocolError(`unknown credit message kind ${String(t[0])}`);
  return {
    kind: CreditKind.GRANT,
    chunks: intIn("credit (chunks)", t[1], 0, Number.MAX_SAFE_INTEGER),
    bytes: intIn("credit (bytes)", t[2], 0, Number.MAX_SAFE_INTEGER),
  };
}
