import { ProtocolError } from "@tsserve/protocol";
import type { PendingRequest, ResultSink } from "./pending-request.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";
import type { ConsumerCredit } from "./replica-transport.js";

// Chunks already read are dropped from the front of the buffer in batches, not one shift() each.
const COMPACT_AFTER = 1024;

/**
 * The result of `handle.options({ stream: true }).remote(...)` (contract): an async iterable of the
 * chunks an async-generator method yields.
 *
 * Flow control: the replica sends at most a window of chunks (and bytes) beyond what this stream's
 * reader has taken, so chunks that arrive before they are read wait in a buffer of at most one
 * window; reading grants the replica more. A reader that stops reading stops the replica (its
 * generator waits at its next `yield`). Leaving a `for await` loop early cancels the request and
 * stops the replica's generator.
 */
export class DeploymentResponseStream<T> implements AsyncIterable<T>, ResultSink {
  private buffer: unknown[] = [];
  private head = 0;
  private ended = false;
  private error: Error | null = null;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private credit: ConsumerCredit | null = null;
  /** @internal */
  request: PendingRequest | null = null;
  /** @internal */
  dispatcher: DeploymentDispatcher | null = null;

  /** Cancels the stream: routing stops, no further chunks are delivered, iteration rejects with RequestCancelledError. */
  cancel(): void {
    if (this.request !== null) this.dispatcher?.cancel(this.request);
  }

  /** Chunks received and not yet read (at most the replica's window). */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  /** Reads every chunk into an array (convenient for short streams and tests). */
  async collect(): Promise<T[]> {
    const out: T[] = [];
    for await (const chunk of this) out.push(chunk);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        if (!this.ended && this.error === null) this.cancel();
        this.buffer = [];
        this.head = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head] as T;
      this.buffer[this.head++] = undefined;
      if (this.head === this.buffer.length) {
        this.buffer.length = 0;
        this.head = 0;
      } else if (this.head >= COMPACT_AFTER) {
        this.buffer.splice(0, this.head);
        this.head = 0;
      }
      this.credit?.consumed();
      return Promise.resolve({ done: false, value });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** @internal ResultSink: the stream is flow-controlled from now on. */
  attachCredit(credit: ConsumerCredit): void {
    this.credit = credit;
  }

  /** @internal ResultSink */
  chunk(value: unknown): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.credit?.consumed();
      w.resolve({ done: false, value: value as T });
      return;
    }
    this.buffer.push(value);
    // A replica that ignores its own window would make this buffer grow without bound: refuse.
    if (this.credit !== null && this.buffered > this.credit.windowChunks + 1 && this.error === null) {
      const e = new ProtocolError(
        `the replica sent more than its stream window of ${this.credit.windowChunks} chunks ahead of the reader`,
      );
      this.cancel();
      this.buffer = [];
      this.head = 0;
      this.fail(e);
    }
  }

  /** @internal ResultSink: the stream ended. */
  resolve(): void {
    this.ended = true;
    this.request = null;
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ done: true, value: undefined });
  }

  /** @internal ResultSink */
  reject(error: Error): void {
    // The first error stands (a protocol violation cancels the request, which rejects again).
    if (this.error === null) this.fail(error);
  }

  // Chunks already buffered are still read before the error (a generator that yields, then throws).
  private fail(error: Error): void {
    this.error = error;
    this.request = null;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(error);
  }
}
