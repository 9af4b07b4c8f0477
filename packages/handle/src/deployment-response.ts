import { RequestTimeoutError } from "@tsserve/protocol";
import type { PendingRequest, ResultSink } from "./pending-request.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";

const Settled = { NO: 0, OK: 1, ERR: 2 } as const;

/**
 * The result of `handle.remote(...)` (contract): a thenable, so `await handle.remote(x)` gives the
 * value. The request is already on its way when `remote()` returns. The promise is made only when
 * someone awaits, so a fire-and-forget call that fails raises no unhandled rejection.
 */
export class DeploymentResponse<T> implements PromiseLike<T>, ResultSink {
  private state: number = Settled.NO;
  private outcome: unknown = undefined;
  private promise: Promise<T> | null = null;
  private resolveFn: ((v: T) => void) | null = null;
  private rejectFn: ((e: unknown) => void) | null = null;
  /** @internal */
  request: PendingRequest | null = null;
  /** @internal */
  dispatcher: DeploymentDispatcher | null = null;

  /** Makes a response assignable to `Promise<T>` (and prints as `[object DeploymentResponse]`). */
  get [Symbol.toStringTag](): string {
    return "DeploymentResponse";
  }

  /** Cancels the request: routing stops at once and the response rejects with RequestCancelledError. */
  cancel(): void {
    if (this.request !== null) this.dispatcher?.cancel(this.request);
  }

  /**
   * The value as a promise. With `timeoutMs`, waits at most that long (the request is cancelled
   * and the promise rejects with RequestTimeoutError); prefer `options({ timeoutMs })`, which also
   * bounds routing from the start.
   */
  result(options: { timeoutMs?: number } = {}): Promise<T> {
    const p = this.toPromise();
    const ms = options.timeoutMs;
    if (ms === undefined || ms <= 0 || this.state !== Settled.NO) return p;
    const timer = setTimeout(() => {
      if (this.request !== null && this.dispatcher !== null) {
        this.dispatcher.cancel(
          this.request,
          new RequestTimeoutError(`request ${this.request.requestId} timed out after ${ms} ms`),
        );
      }
    }, ms);
    return p.finally(() => clearTimeout(timer));
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.toPromise().then(onfulfilled, onrejected);
  }

  /** Like Promise.prototype.catch. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.toPromise().catch(onrejected);
  }

  /** Like Promise.prototype.finally. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.toPromise().finally(onfinally);
  }

  private toPromise(): Promise<T> {
    if (this.promise !== null) return this.promise;
    if (this.state === Settled.OK) return (this.promise = Promise.resolve(this.outcome as T));
    if (this.state === Settled.ERR) return (this.promise = Promise.reject(this.outcome));
    return (this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    }));
  }

  /** @internal ResultSink */
  resolve(value: unknown): void {
    if (this.state !== Settled.NO) return;
    this.state = Settled.OK;
    this.outcome = value;
    this.resolveFn?.(value as T);
    this.release();
  }

  /** @internal ResultSink */
  reject(error: Error): void {
    if (this.state !== Settled.NO) return;
    this.state = Settled.ERR;
    this.outcome = error;
    this.rejectFn?.(error);
    this.release();
  }

  /** @internal ResultSink: unary calls get no chunks. */
  chunk(): void {}

  private release(): void {
    this.resolveFn = null;
    this.rejectFn = null;
    this.request = null;
  }
}
