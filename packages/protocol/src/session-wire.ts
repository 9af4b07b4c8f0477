import { createHash } from "node:crypto";
import { decode, encode } from "./codec.js";
import { ProtocolError } from "./errors.js";

/**
 * Session state on the wire and in JetStream KV (docs/internals.md "Session state"): the bucket
 * and key names, the one record per session, and the replica-to-replica hand-off messages. Every
 * message is decoded and bounded here, once.
 */

/** Longest key body kept readable; longer ids are hashed (the raw id stays in the record). */
const MAX_PLAIN_KEY = 200;

/** KV bucket names allow letters, digits, `_` and `-` only. */
const BUCKET_SAFE = /^[A-Za-z0-9_-]+$/;

function digest(text: string, chars: number): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, chars);
}

/**
 * The KV bucket of one stateful deployment: `<prefix>_sess_<app>_<deployment>` (dots of the prefix
 * as `_`). Names with characters a bucket name cannot hold (subject tokens also allow `:@+=~`) keep
 * the safe ones and get a hash suffix, so two deployments never share a bucket.
 */
export function sessionBucketName(prefix: string, app: string, deployment: string): string {
  const raw = `${prefix.replace(/\./g, "_")}_sess_${app}_${deployment}`;
  if (BUCKET_SAFE.test(raw) && raw.length <= 180) return raw;
  const safe = raw.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 160);
  return `${safe}_${digest(raw, 12).replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

/**
 * The KV key of a session: `s.<base64url of the UTF-8 id>`, or `h.<sha256 base64url>` for ids
 * whose encoding is over 200 characters (collision-safe: the record holds the raw id, checked on
 * every read). The empty id is `e`.
 */
export function sessionKey(sessionId: string): string {
  if (sessionId.length === 0) return "e";
  const b64 = Buffer.from(sessionId, "utf8").toString("base64url");
  return b64.length <= MAX_PLAIN_KEY ? `s.${b64}` : `h.${digest(sessionId, 43)}`;
}

/** One session's KV record. Every write is a compare-and-set on the revision read before. */
export interface SessionRecord {
  /** The raw session id (keys may be hashes). */
  id: string;
  /** The owner replica, or "" while parked (released, waiting for the next owner). */
  owner: string;
  /** The owner's fencing generation (its ReplicaSpec's). */
  generation: number;
  /** Released by its owner on a hand-off or drain: `state` / `exported` are what the next owner imports. */
  parked: boolean;
  /** The msgpack bytes of the `getSessionState()` value: durable mode always, memory mode while parked. */
  state: Uint8Array | null;
  /** The msgpack bytes of the class's `exportSession()` result (parked only). */
  exported: Uint8Array | null;
  /** Epoch ms of this write (information: TTL runs on the owner's clock). */
  at: number;
}

const RECORD_VERSION = 1;

function bytesOrNull(v: unknown, what: string): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  throw new ProtocolError(`session record: ${what} is not bytes`);
}

export function encodeSessionRecord(r: SessionRecord): Uint8Array {
  return encode(
    [RECORD_VERSION, r.id, r.owner, r.generation, r.parked, r.state, r.exported, r.at],
    "session record",
  );
}

/** Decodes a record; a malformed one raises ProtocolError (the caller treats the key as foreign). */
export function decodeSessionRecord(bytes: Uint8Array): SessionRecord {
  const v = decode(bytes);
  if (!Array.isArray(v) || v[0] !== RECORD_VERSION || v.length < 8) {
    throw new ProtocolError("session record: not a version-1 record");
  }
  const [, id, owner, generation, parked, state, exported, at] = v as unknown[];
  if (typeof id !== "string" || typeof owner !== "string")
    throw new ProtocolError("session record: bad id or owner");
  if (typeof generation !== "number" || typeof at !== "number" || typeof parked !== "boolean") {
    throw new ProtocolError("session record: bad generation, parked or time");
  }
  return {
    id,
    owner,
    generation,
    parked,
    state: bytesOrNull(state, "state"),
    exported: bytesOrNull(exported, "exported"),
    at,
  };
}

/**
 * `sfwd.…`: a forwarded session call keeps its body; its reply subject is the forwarder's (the
 * receiver answers it at once with an empty message, so a forward to a replica that stopped
 * serving comes back as "no responders" instead of being dropped), and this header carries the
 * caller's reply subject, which the receiver answers as if the call had come straight to it.
 */
export const SESSION_FORWARD_REPLY_HEADER = "Tsserve-Reply";

/**
 * `sfwd.…`: present (any value) on a forward from the session's previous owner while it moves
 * (the call follows its session): the new owner admits it beyond `maxOngoingRequests`. Forwards
 * by the ring (a spilled call, a caller with another view) have none and obey the limit.
 */
export const SESSION_FORWARD_MOVED_HEADER = "Tsserve-Moved";

/** `shand.…`: the replica that wants a session asks its recorded owner to release it. */
export interface HandoffRequest {
  sessionId: string;
  /** The asking replica: late calls of the session are forwarded there. */
  to: string;
}

/** How the asked replica answered. */
export const HandoffStatus = {
  /** Released: the record is parked with everything the next owner needs. */
  RELEASED: 0,
  /** This replica does not hold the session (the asker may take it over). */
  NOT_HELD: 1,
  /** This replica is itself acquiring the session: ask again shortly. */
  BUSY: 2,
} as const;
export type HandoffStatus = (typeof HandoffStatus)[keyof typeof HandoffStatus];

export function encodeHandoffRequest(r: HandoffRequest): Uint8Array {
  return encode([1, r.sessionId, r.to]);
}

export function decodeHandoffRequest(bytes: Uint8Array): HandoffRequest {
  const v = decode(bytes);
  if (!Array.isArray(v) || v[0] !== 1 || typeof v[1] !== "string" || typeof v[2] !== "string") {
    throw new ProtocolError("malformed session hand-off request");
  }
  return { sessionId: v[1], to: v[2] };
}

/**
 * `shand.…`, published without a reply subject: the sender parked `sessionId` for the receiver,
 * the session's owner on the sender's ring, so that the receiver claims it before the session's
 * next call arrives there. Only a hint: a receiver that ignores it acquires on that call.
 */
export interface HandoffOffer {
  sessionId: string;
  /**
   * The parked record's KV revision and its `state` / `exported` bytes, so the receiver claims it
   * by compare-and-set without reading it first; revision 0: not carried (too large), read it.
   */
  revision: number;
  state: Uint8Array | null;
  exported: Uint8Array | null;
}

export function encodeHandoffOffer(o: HandoffOffer): Uint8Array {
  return encode([2, o.sessionId, o.revision, o.state, o.exported]);
}

/** The offer, or undefined when `bytes` is not one (a hand-off request, say). */
export function decodeHandoffOffer(bytes: Uint8Array): HandoffOffer | undefined {
  let v: unknown;
  try {
    v = decode(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v[0] !== 2 || typeof v[1] !== "string" || typeof v[2] !== "number")
    return undefined;
  const bytesOr = (x: unknown): Uint8Array | null | undefined =>
    x === null || x === undefined ? null : x instanceof Uint8Array ? x : undefined;
  const state = bytesOr(v[3]);
  const exported = bytesOr(v[4]);
  if (state === undefined || exported === undefined) return undefined;
  return { sessionId: v[1], revision: v[2], state, exported };
}

export function encodeHandoffReply(status: HandoffStatus): Uint8Array {
  return encode([1, status]);
}

export function decodeHandoffReply(bytes: Uint8Array): HandoffStatus {
  const v = decode(bytes);
  if (!Array.isArray(v) || v[0] !== 1 || (v[1] !== 0 && v[1] !== 1 && v[1] !== 2)) {
    throw new ProtocolError("malformed session hand-off reply");
  }
  return v[1] as HandoffStatus;
}
