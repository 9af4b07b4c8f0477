import { RequestTimeoutError } from "@tsserve/protocol";
import type { PendingRequest, ResultSink } from "./pending-request.js";
import type { DeploymentDispatcher } from "./dispatch/dispatcher.js";

const Settled = { NO: 0, OK: 1, ERR: 2 } as const;

/** Responses settled since the last drain whose first `then` callback is still to run. */
let settledFirstThens: DeploymentResponse<unknown>[] = [];

/** One microtask runs the first `then` callbacks of every response settled since it was queued. */
function drainFirstThens(): void {
  const batch = settledFirstThens;
  settledFirstThens = [];
  for (let i = 0; i < batch.length; i++) batch[i]!.runFirstThen();
}

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
  /** The first `then` before settlement (what `await` does): its callbacks and returned promise. */
  private firstOk: ((value: T) => unknown) | null | undefined = null;
  private firstErr: ((reason: unknown) => unknown) | null | undefined = null;
  private firstResolve: ((value: unknown) => void) | null = null;
  private firstReject: ((reason: unknown) => void) | null = null;
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

  /**
   * Like Promise.prototype.then. The first `then` before the response settles (what `await` calls)
   * makes no promise of the response's own: its callbacks wait here and run from one microtask
   * shared by every response settled since (in settle order), and only the promise it returns is
   * made. That is one promise and one reaction fewer per awaited call, which matter most for calls
   * that wait long enough in the handle's queue to be promoted (issue 20).
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.state === Settled.NO && this.promise === null && this.firstResolve === null) {
      return new Promise<R1 | R2>((resolve, reject) => {
        this.firstResolve = resolve as (value: unknown) => void;
        this.firstReject = reject;
        this.firstOk = onfulfilled;
        this.firstErr = onrejected;
      });
    }
    return this.toPromise().then(onfulfilled, onrejected);
  }

  /** @internal Runs the first `then`'s callback with the outcome (from the shared drain). */
  runFirstThen(): void {
    const resolve = this.firstResolve!;
    const reject = this.firstReject!;
    const ok = this.state === Settled.OK;
    const callback = ok ? this.firstOk : this.firstErr;
    this.firstResolve = this.firstReject = null;
    this.firstOk = this.firstErr = null;
    if (typeof callback !== "function") {
      if (ok) resolve(this.outcome);
      else reject(this.outcome);
      return;
    }
    try {
      resolve((callback as (v: unknown) => unknown)(this.outcome));
    } catch (e) {
      reject(e);
    }
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
    this.queueFirstThen();
    this.resolveFn?.(value as T);
    this.release();
  }

  /** @internal ResultSink */
  reject(error: Error): void {
    if (this.state !== Settled.NO) return;
    this.state = Settled.ERR;
    this.outcome = error;
    this.queueFirstThen();
    this.rejectFn?.(error);
    this.release();
  }

  /** @internal ResultSink: unary calls get no chunks. */
  chunk(): void {}

  /** Before the promise's reactions: the first `then` was registered before any of them. */
  private queueFirstThen(): void {
    if (this.firstResolve === null) return;
    if (settledFirstThens.push(this as DeploymentResponse<unknown>) === 1) queueMicrotask(drainFirstThens);
  }

  private release(): void {
    this.resolveFn = null;
    this.rejectFn = null;
    this.request = null;
  }
}
