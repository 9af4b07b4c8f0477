import type { KV, NatsConnection } from "nats";
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
  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

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
    return new SessionStore(kv, bucket);
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

  /** Writes `record` if the key is still at `revision`; throws (isRevisionConflict) otherwise. */
  async update(record: SessionRecord, revision: number): Promise<number> {
    return this.kv.update(sessionKey(record.id), encodeSessionRecord(record), revision);
  }

  /** Deletes the record if it is still at `revision` (an expired session's owner). */
  async remove(sessionId: string, revision: number): Promise<void> {
    await this.kv.delete(sessionKey(sessionId), { previousSeq: revision });
  }
}
