import type { PendingRequest, ResultSink } from "./pending-request.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";

/**
 * The result of `handle.options({ stream: true }).remote(...)` (contract): an async iterable of the
 * chunks an async-generator method yields. Chunks arriving before they are read are buffered.
 * Leaving a `for await` loop early cancels the request.
 */
export class DeploymentResponseStream<T> implements AsyncIterable<T>, ResultSink {
  private readonly buffer: unknown[] = [];
  private ended = false;
  private error: Error | null = null;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  /** @internal */
  request: PendingRequest | null = null;
  /** @internal */
  dispatcher: DeploymentDispatcher | null = null;

  /** Cancels the stream: routing stops, no further chunks are delivered, iteration rejects with RequestCancelledError. */
  cancel(): void {
    if (this.request !== null) this.dispatcher?.cancel(this.request);
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
        this.buffer.length = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ done: false, value: this.buffer.shift() as T });
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** @internal ResultSink */
  chunk(value: unknown): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ done: false, value: value as T });
    } else this.buffer.push(value);
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
    this.error = error;
    this.request = null;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(error);
  }
}
