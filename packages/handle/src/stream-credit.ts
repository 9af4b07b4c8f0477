import type { NatsConnection } from "nats";
import {
  encodeCredit,
  encodeStreamCancel,
  MAX_STREAM_KEEPALIVE_MS,
  type StreamFlow,
} from "@tsserve/protocol/internal";
import type { ConsumerCredit } from "./replica-transport.js";

// Sizes already consumed are dropped from the front of the queue in batches, not one by one.
const COMPACT_AFTER = 4096;

/**
 * The consumer side of one stream's flow control (internals.md "Streams and credit"). The
 * transport records the encoded size of every chunk that arrives; the response stream reports
 * every chunk its reader takes. Each time the reader has taken half a window (in chunks or in
 * bytes) since the last grant, a cumulative grant goes to the replica's credit subject. A
 * keepalive repeats the last grant while the stream is open, so a lost grant heals and a slow
 * but living reader is not taken for gone; closing before the end sends CANCEL.
 */
export class StreamCredit implements ConsumerCredit {
  private readonly sizes: number[] = [];
  private head = 0;
  private takenChunks = 0;
  private takenBytes = 0;
  private grantedChunks = 0;
  private grantedBytes = 0;
  private readonly halfChunks: number;
  private readonly halfBytes: number;
  private readonly keepalive: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly flow: StreamFlow,
  ) {
    this.halfChunks = Math.max(1, Math.floor(flow.windowChunks / 2));
    this.halfBytes = Math.max(1, Math.floor(flow.windowBytes / 2));
    const every = Math.max(50, Math.min(MAX_STREAM_KEEPALIVE_MS, Math.floor(flow.creditTimeoutMs / 3)));
    this.keepalive = setInterval(() => this.grant(), every);
    this.keepalive.unref();
  }

  /** The most chunks a well-behaved replica can have in this consumer's buffer. */
  get windowChunks(): number {
    return this.flow.windowChunks;
  }

  /** Transport: a chunk of `bytes` encoded bytes arrived. */
  arrived(bytes: number): void {
    this.sizes.push(bytes);
  }

  /** ConsumerCredit: the reader took one chunk. */
  consumed(): void {
    const bytes = this.head < this.sizes.length ? this.sizes[this.head++]! : 0;
    if (this.head === this.sizes.length) {
      this.sizes.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER) {
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    this.takenChunks++;
    this.takenBytes += bytes;
    if (
      this.takenChunks - this.grantedChunks >= this.halfChunks ||
      this.takenBytes - this.grantedBytes >= this.halfBytes
    ) {
      this.grant();
    }
  }

  /** Transport: the stream's last reply (STREAM_END or ERROR) arrived; nothing more to grant. */
  ended(): void {
    this.done = true;
    clearInterval(this.keepalive);
  }

  /** Transport: the exchange closed. Before the end, the consumer is gone: tell the replica. */
  close(): void {
    if (this.done) return;
    this.ended();
    this.publish(encodeStreamCancel());
  }

  private grant(): void {
    this.grantedChunks = this.takenChunks;
    this.grantedBytes = this.takenBytes;
    this.publish(encodeCredit(this.takenChunks, this.takenBytes));
  }

  private publish(body: Uint8Array): void {
    try {
      this.nc.publish(this.flow.creditSubject, body);
    } catch {
      // Closed or draining connection: the replica's credit timeout ends the stream.
    }
  }
}
