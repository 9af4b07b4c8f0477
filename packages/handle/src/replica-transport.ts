import type { Reply } from "@tsserve/protocol/internal";

/**
 * A probe's answer: the replica's queue length, `null` when the deadline passed (or the answer was
 * unreadable), or {@link NO_RESPONDERS} when nothing is subscribed (the replica is gone).
 */
export type ProbeResult = number | null | typeof NO_RESPONDERS;

/** NATS told us nobody is subscribed to the subject: the message reached no replica. */
export const NO_RESPONDERS = "no-responders";

/** A stream consumer's side of flow control: report each chunk the reader takes. */
export interface ConsumerCredit {
  /** The reader took one chunk; credit goes back to the replica as the window drains. */
  consumed(): void;
  /** The most chunks a well-behaved replica can have in the consumer's buffer. */
  readonly windowChunks: number;
}

/** Receives the replies of one sent request. */
export interface ReplyTarget {
  /** One reply, in arrival order; `null` means NATS no-responders (the request reached nobody). */
  onReply(reply: Reply | null): void;
  /** A stream with flow control started (called just before its STREAM_START reply). */
  onStreamCredit?(credit: ConsumerCredit): void;
}

/** One request's open reply channel; `close()` stops delivery (idempotent). */
export interface Exchange {
  close(): void;
}

/**
 * The data plane as the routing loop sees it, bound to one deployment. The real implementation
 * multiplexes one NATS inbox subscription per client; tests drive the loop through a fake.
 */
export interface DeploymentTransport {
  /** Asks a replica for its queue length. Never rejects. */
  probe(replicaId: string, deadlineMs: number): Promise<ProbeResult>;
  /**
   * Sends an encoded request to a replica; replies go to `target` until `close()` is called. A
   * unary call gets one reply; a stream gets many.
   */
  send(replicaId: string, body: Uint8Array, target: ReplyTarget): Exchange;
}
