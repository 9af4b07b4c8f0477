import type { Reply } from "@tsserve/protocol";

/**
 * A probe's answer: the replica's queue length, `null` when the deadline passed (or the answer was
 * unreadable), or {@link NO_RESPONDERS} when nothing is subscribed (the replica is gone).
 */
export type ProbeResult = number | null | typeof NO_RESPONDERS;

/** NATS told us nobody is subscribed to the subject: the message reached no replica. */
export const NO_RESPONDERS = "no-responders";

/** Receives the replies of one sent request. */
export interface ReplyTarget {
  /** One reply, in arrival order; `null` means NATS no-responders (the request reached nobody). */
  onReply(reply: Reply | null): void;
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
