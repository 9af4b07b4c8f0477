import { decode, encode } from "./codec.js";
import { ProtocolError } from "./errors.js";
import { decodeStreamFlow, type StreamFlow } from "./stream-flow.js";
import type { WireError } from "./wire-error.js";
import { decodeHttpInfo, httpInfoTuple, type HttpRequestInfo } from "./http-info.js";
import { checkMultiplexedModelId } from "./multiplexed.js";

/**
 * Data-plane messages. Metadata and payload travel in one msgpack body (see docs/design.md §4: NATS
 * headers cost a third of the throughput). Bodies are positional arrays: smaller and faster to
 * pack than maps, and the decoders below check every position.
 */

export const WIRE_VERSION = 1;

/** A call to one replica. */
export interface RequestMessage {
  /** Unique per request; also the routing key of session-less ConsistentHash traffic. */
  requestId: string;
  /** `__call__` or a method name. */
  method: string;
  args: unknown[];
  /** Session id, or null. */
  sessionId: string | null;
  /** True when the caller expects a stream of chunks from an async generator. */
  stream: boolean;
  /**
   * The caller wants an ACCEPTED reply for a unary call still running a few ms after it arrived
   * (handles do; a raw NATS client with one reply per request does not). @default false
   */
  acks?: boolean;
  /**
   * The HTTP request behind the call, when the proxy sent one; absent on the JSON fast path and
   * for handle calls. Read by user code as `getRequestContext().http`.
   */
  http?: HttpRequestInfo | undefined;
  /**
   * The JSON fast path of the HTTP proxy (see json-call.ts): `args` is `[body]`, the request
   * body's JSON text as UTF-8 bytes, which the replica parses; a unary answer comes back as the
   * JSON text of the result (bytes), unless it is an `httpResponse()`. @default false
   */
  json?: boolean;
  /** `handle.options({ multiplexedModelId })`: the model the call needs; checked on decode. */
  multiplexedModelId?: string | undefined;
}

/** Bits of the request's flags field (it was the 0/1 stream flag: 1 still means a stream). */
export const RequestFlags = { STREAM: 1, ACKS: 2, JSON: 4 } as const;
const ALL_FLAGS = RequestFlags.STREAM | RequestFlags.ACKS | RequestFlags.JSON;

/**
 * Position of the optional HTTP info: a trailing field after the fixed ones, so requests without
 * it keep their 6-element shape and cost nothing more to pack or decode.
 */
export const HTTP_INFO_INDEX = 6;
/** Position of the optional multiplexed model id (after the HTTP info, null when there is none). */
export const MODEL_ID_INDEX = 7;

type RequestTuple = [
  version: number,
  requestId: string,
  method: string,
  args: unknown[],
  sessionId: string | null,
  flags: number,
];

export function encodeRequest(r: RequestMessage): Uint8Array {
  const flags =
    (r.stream ? RequestFlags.STREAM : 0) |
    (r.acks === true ? RequestFlags.ACKS : 0) |
    (r.json === true ? RequestFlags.JSON : 0);
  const http = r.http;
  if (r.multiplexedModelId !== undefined) {
    const h = http === undefined ? null : httpInfoTuple(http);
    return encode(
      [WIRE_VERSION, r.requestId, r.method, r.args, r.sessionId, flags, h, r.multiplexedModelId],
      "the call's arguments",
    );
  }
  if (http === undefined) {
    const t: RequestTuple = [WIRE_VERSION, r.requestId, r.method, r.args, r.sessionId, flags];
    return encode(t, "the call's arguments");
  }
  // HTTP info at HTTP_INFO_INDEX, in a 7-element literal: growing the 6-tuple by one index packed
  // measurably slower (msgpackr, ~1 µs).
  return encode(
    [WIRE_VERSION, r.requestId, r.method, r.args, r.sessionId, flags, httpInfoTuple(http)],
    "the call's arguments",
  );
}

export function decodeRequest(bytes: Uint8Array): RequestMessage {
  const t = decode(bytes);
  if (!Array.isArray(t) || t.length < 6) throw new ProtocolError("request must be a 6-element msgpack array");
  const [version, requestId, method, args, sessionId, flags] = t as unknown[];
  if (version !== WIRE_VERSION) throw new ProtocolError(`unsupported wire version ${String(version)}`);
  if (typeof requestId !== "string" || requestId.length === 0)
    throw new ProtocolError("request id must be a non-empty string");
  if (typeof method !== "string" || method.length === 0)
    throw new ProtocolError("method must be a non-empty string");
  if (!Array.isArray(args)) throw new ProtocolError("args must be an array");
  if (sessionId !== null && typeof sessionId !== "string")
    throw new ProtocolError("session id must be a string or null");
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > ALL_FLAGS)
    throw new ProtocolError(`request flags must be an integer from 0 to ${ALL_FLAGS}`);
  const out: RequestMessage = {
    requestId,
    method,
    args,
    sessionId,
    stream: (flags & RequestFlags.STREAM) !== 0,
  };
  if ((flags & RequestFlags.ACKS) !== 0) out.acks = true;
  if ((flags & RequestFlags.JSON) !== 0) {
    if (args.length !== 1 || !(args[0] instanceof Uint8Array))
      throw new ProtocolError("a JSON request's args must be [body bytes]");
    out.json = true;
  }
  if (t.length > HTTP_INFO_INDEX) out.http = decodeHttpInfo(t[HTTP_INFO_INDEX]);
  if (t.length > MODEL_ID_INDEX)
    out.multiplexedModelId = checkMultiplexedModelId(t[MODEL_ID_INDEX], "multiplexed model id");
  return out;
}

/** What a reply says. Every reply carries the replica's current queue length. */
export const ReplyKind = {
  /** Unary result. payload = the value. */
  OK: 0,
  /** Not accepted: the replica is at maxOngoingRequests (or draining). No payload. */
  REJECTED: 1,
  /** The request failed. payload = WireError. */
  ERROR: 2,
  /**
   * A stream was accepted; chunks follow on the same reply subject. payload = the StreamFlow
   * (credit subject and window, see stream-flow.ts); absent from replicas without flow control.
   */
  STREAM_START: 3,
  /** One stream chunk. payload = the value. */
  CHUNK: 4,
  /** The stream ended normally. */
  STREAM_END: 5,
  /** Answer to a probe. No payload. */
  QUEUE_LEN: 6,
  /**
   * The replica took the call and is still running it a few milliseconds later (fast calls answer
   * before and send none). A handle whose replica dies knows from it which calls may have run:
   * those without it never reached the replica and are sent elsewhere. No payload.
   */
  ACCEPTED: 7,
} as const;
export type ReplyKind = (typeof ReplyKind)[keyof typeof ReplyKind];

export type Reply =
  | { kind: typeof ReplyKind.OK; queueLen: number; value: unknown }
  | { kind: typeof ReplyKind.CHUNK; queueLen: number; value: unknown }
  | { kind: typeof ReplyKind.ERROR; queueLen: number; error: WireError }
  | { kind: typeof ReplyKind.STREAM_START; queueLen: number; flow?: StreamFlow }
  | {
      kind:
        | typeof ReplyKind.REJECTED
        | typeof ReplyKind.STREAM_END
        | typeof ReplyKind.QUEUE_LEN
        | typeof ReplyKind.ACCEPTED;
      queueLen: number;
    };

/** Encodes a reply; an unencodable payload raises BadRequestError (see `encode`). */
export function encodeReply(kind: ReplyKind, queueLen: number, payload?: unknown): Uint8Array {
  return encode(payload === undefined ? [kind, queueLen] : [kind, queueLen, payload], "reply");
}

const KINDS = new Set<number>(Object.values(ReplyKind));

export function decodeReply(bytes: Uint8Array): Reply {
  const t = decode(bytes);
  if (!Array.isArray(t) || t.length < 2) throw new ProtocolError("reply must be a msgpack array");
  const kind = t[0] as unknown;
  const queueLen = t[1] as unknown;
  if (typeof kind !== "number" || !KINDS.has(kind))
    throw new ProtocolError(`unknown reply kind ${String(kind)}`);
  if (typeof queueLen !== "number") throw new ProtocolError("reply queue length must be a number");
  switch (kind) {
    case ReplyKind.OK:
    case ReplyKind.CHUNK:
      return { kind, queueLen, value: t[2] };
    case ReplyKind.ERROR:
      return { kind, queueLen, error: t[2] as WireError };
    case ReplyKind.STREAM_START:
      return t[2] === undefined ? { kind, queueLen } : { kind, queueLen, flow: decodeStreamFlow(t[2]) };
    default:
      return { kind: kind as typeof ReplyKind.REJECTED, queueLen };
  }
}
