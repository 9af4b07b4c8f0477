import { headers, type KV, type NatsConnection } from "nats";
import {
  decodeSessionRecord,
  encodeSessionRecord,
  sessionKey,
  type SessionRecord,
} from "@tsserve/protocol/internal";
import { ProtocolError } from "@tsserve/protocol";

/** A record as read, with the revision every later write must name. */
export interface StoredRecord {
  record: SessionRecord;
  revision: number;
}

/** Request timeout of KV operations: a hand-off or a durable reply must not hang for nats.js's 5 s. */
const KV_TIMEOUT_MS = 2000;

/** JetStream's compare-and-set header: the write is refused unless the subject's last sequence is this. */
const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";

/** A JetStream error answer, as nats.js raises it (`api_error`), so isRevisionConflict reads both. */
class JetStreamApiError extends Error {
  constructor(readonly api_error: { code?: number; err_code?: number; description?: string }) {
    super(api_error.description ?? `JetStream error ${String(api_error.err_code ?? api_error.code)}`);
    this.name = "JetStreamApiError";
  }
}

/** The sequence of a JetStream publish ack; a JetStream error answer is thrown as JetStreamApiError. */
function pubAckSeq(data: Uint8Array): number {
  let ack: { seq?: unknown; error?: JetStreamApiError["api_error"] };
  try {
    ack = JSON.parse(
      Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"),
    ) as typeof ack;
  } catch {
    throw new ProtocolError(`session store: the JetStream ack is not JSON (${data.length} bytes)`);
  }
  if (ack.error !== undefined) throw new JetStreamApiError(ack.error);
  if (typeof ack.seq !== "number")
    throw new ProtocolError("session store: the JetStream ack has no sequence");
  return ack.seq;
}

/** True for JetStream's "wrong last sequence" (a compare-and-set that lost). */
export function isRevisionConflict(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return (
    /wrong last sequence|key exists/i.test(text) ||
    (e as { api_error?: { err_code?: number } }).api_error?.err_code === 10071
  );
}

/**
 * The session records of one deployment in its JetStream KV bucket (docs/internals.md "Session
 * state"): one key per session, and every write a compare-and-set (`create`, or `update` naming
 * the revision read before), never a blind put, so a fenced or partitioned old owner's write fails.
 */
export class SessionStore {
  /** `$KV.<bucket>.`: what a key's subject starts with (a plain bucket: no JetStream domain or mirror). */
  private readonly subjectPrefix: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    readonly bucket: string,
  ) {
    this.subjectPrefix = `$KV.${bucket}.`;
  }

  /**
   * Binds the bucket the controller created at deploy; creates it when it is missing and this
   * connection may (tests and single-user clusters without the controller's bucket step).
   */
  static async open(nc: NatsConnection, bucket: string, replicas = 1): Promise<SessionStore> {
    const js = nc.jetstream({ timeout: KV_TIMEOUT_MS });
    let kv: KV;
    try {
      kv = await js.views.kv(bucket, { bindOnly: true, allow_direct: false });
      // bindOnly does not look: the stream info does (and fails when the bucket is missing).
      await kv.status();
    } catch {
      kv = await js.views.kv(bucket, { history: 1, replicas, allow_direct: false });
    }
    return new SessionStore(nc, kv, bucket);
  }

  /** The record of `sessionId`, or null; a record of another id under the same (hashed) key is an error. */
  async read(sessionId: string): Promise<StoredRecord | null> {
    const e = await this.kv.get(sessionKey(sessionId));
    if (e === null || e.operation !== "PUT" || e.value.length === 0) return null;
    const record = decodeSessionRecord(e.value);
    if (record.id !== sessionId) {
      throw new ProtocolError(
        `session key ${sessionKey(sessionId)} holds session ${JSON.stringify(record.id.slice(0, 80))}, not ${JSON.stringify(sessionId.slice(0, 80))} (hash collision)`,
      );
    }
    return { record, revision: e.revision };
  }

  /** Writes a first record; throws (isRevisionConflict) when one exists. */
  async create(record: SessionRecord): Promise<number> {
    return this.kv.create(sessionKey(record.id), encodeSessionRecord(record));
  }

  /**
   * Writes `record` if the key is still at `revision`; throws (isRevisionConflict) otherwise.
   * The durable write of every call that changed its state, so it skips nats.js's KV layer (key
   * re-encoding and validation, which sessionKey() already guarantees, and the JetStream client's
   * generic wrapping): one request on the key's subject with the revision header, the JetStream
   * ack decoded here. Measured: 150 µs against kv.update's 175 µs per round trip on one server.
   */
  async update(record: SessionRecord, revision: number): Promise<number> {
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(revision));
    const msg = await this.nc.request(
      this.subjectPrefix + sessionKey(record.id),
      encodeSessionRecord(record),
      {
        headers: h,
        timeout: KV_TIMEOUT_MS,
      },
    );
    return pubAckSeq(msg.data);
  }

  /** Deletes the record if it is still at `revision` (an expired session's owner). */
  async remove(sessionId: string, revision: number): Promise<void> {
    await this.kv.delete(sessionKey(sessionId), { previousSeq: revision });
  }
}
