import { ConfigError, type HttpRequestInfo } from "@tsserve/protocol";
import { DeploymentResponse } from "./deployment-response.js";
import { DeploymentResponseStream } from "./deployment-response-stream.js";
import { DEFAULT_METHOD, type HandleCallOptions } from "./options.js";
import type { DeploymentDispatcher, SubmitOptions } from "./dispatch/dispatcher.js";
import { routingOptions } from "./routing-options.js";

type AnyFn = (...args: any[]) => any;

/** Call options a handle keeps: what the routing loop reads, plus the HTTP info it passes along. */

/** What one chunk of a streamed method is: the element type of its async generator. */
export type StreamElement<R> =
  R extends AsyncIterable<infer Y> ? Y : R extends Iterable<infer Y> ? Y : Awaited<R>;

/** The names of T's methods. */
export type MethodNames<T> = { [K in keyof T]-?: T[K] extends AnyFn ? K : never }[keyof T] & string;

type CallFn<T> = T extends { __call__: infer F extends AnyFn } ? F : (...args: any[]) => any;

/** `handle.someMethod`: call one method of the deployment. */
export interface MethodCaller<F extends AnyFn> {
  /** Calls the method on a replica; `await` the response for its (awaited) return value. */
  remote(...args: Parameters<F>): DeploymentResponse<Awaited<ReturnType<F>>>;
}

/** `handle.options({ stream: true }).someMethod`: stream one async-generator method. */
export interface StreamingMethodCaller<F extends AnyFn> {
  /** Calls the method on a replica; iterate the response for the chunks it yields. */
  remote(...args: Parameters<F>): DeploymentResponseStream<StreamElement<ReturnType<F>>>;
}

/** Members every handle has; a deployment method with one of these names needs `options({ method })`. */
export interface HandleCore<T, Streaming extends boolean> {
  /** The deployment this handle calls. */
  readonly deploymentName: string;
  /** The application the deployment belongs to. */
  readonly appName: string;
  /**
   * A new handle with some call options changed (the others inherited). Cheap: the new handle
   * shares this one's dispatcher (queue, cache) and connection.
   */
  options<O extends HandleCallOptions>(
    options: O,
  ): O["stream"] extends true
    ? StreamingDeploymentHandle<T>
    : O["stream"] extends false
      ? DeploymentHandle<T>
      : Streaming extends true
        ? StreamingDeploymentHandle<T>
        : DeploymentHandle<T>;
  /** Calls `__call__` (or the method set with `options({ method })`). */
  remote(
    ...args: Parameters<CallFn<T>>
  ): Streaming extends true
    ? DeploymentResponseStream<StreamElement<ReturnType<CallFn<T>>>>
    : DeploymentResponse<Awaited<ReturnType<CallFn<T>>>>;
}

type Reserved = keyof HandleCore<unknown, false> | "then";

/**
 * A handle to a deployment (contract): `handle.remote(x)` calls `__call__`,
 * `handle.reply.remote("hi")` calls the `reply` method, type-checked against the class `T`.
 */
export type DeploymentHandle<T = any> = HandleCore<T, false> & {
  readonly [K in Exclude<MethodNames<T>, Reserved>]: T[K] extends AnyFn ? MethodCaller<T[K]> : never;
};

/** A handle made with `options({ stream: true })`: calls return async iterables of chunks. */
export type StreamingDeploymentHandle<T = any> = HandleCore<T, true> & {
  readonly [K in Exclude<MethodNames<T>, Reserved>]: T[K] extends AnyFn ? StreamingMethodCaller<T[K]> : never;
};

/**
 * The object behind the Proxy. One per `options()` call; method callers are cached on it. Every
 * property name here hides a deployment method of the same name (reach those with
 * `options({ method })`), hence the underscores on the internal ones.
 */
class HandleImpl {
  private readonly _methods = new Map<string, unknown>();
  /**
   * `remote` bound to this object: the Proxy's get trap returns it for `handle.remote`, so a call
   * costs one trap, not three (`remote`, then `_dispatcher` and `_opts` read through the Proxy).
   */
  readonly _remote = (...args: unknown[]): DeploymentResponse<unknown> | DeploymentResponseStream<unknown> =>
    submitTo(this._dispatcher, this._opts, args);

  constructor(
    readonly _dispatcher: DeploymentDispatcher,
    readonly _opts: SubmitOptions,
  ) {}

  get deploymentName(): string {
    return this._dispatcher.deployment;
  }

  get appName(): string {
    return this._dispatcher.app;
  }

  options(o: HandleCallOptions): unknown {
    return makeHandle(this._dispatcher, mergeOptions(this._opts, o));
  }

  remote(...args: unknown[]): DeploymentResponse<unknown> | DeploymentResponseStream<unknown> {
    return submitTo(this._dispatcher, this._opts, args);
  }

  _method(name: string): unknown {
    let m = this._methods.get(name);
    if (m === undefined) {
      const h = new HandleImpl(this._dispatcher, { ...this._opts, method: name });
      m = { remote: (...args: unknown[]) => h.remote(...args) };
      this._methods.set(name, m);
    }
    return m;
  }
}

const proxyHandler: ProxyHandler<HandleImpl> = {
  get(target, prop, receiver) {
    // The hot path: every call reads `remote`.
    if (prop === "remote") return target._remote;
    if (typeof prop === "symbol" || prop in target) return Reflect.get(target, prop, receiver) as unknown;
    // `then` must stay undefined, or `await handle` would treat the handle as a promise.
    if (prop === "then") return undefined;
    return target._method(prop);
  },
};

/** @internal Builds a handle (a Proxy over HandleImpl) for `dispatcher` with resolved call options. */
export function makeHandle(dispatcher: DeploymentDispatcher, opts: SubmitOptions): unknown {
  return new Proxy(new HandleImpl(dispatcher, opts), proxyHandler);
}

/**
 * @internal One call through `handle` with options the caller built and checked itself: what an
 * ingress server (the HTTP proxy) makes per request, without a new handle per call as
 * `handle.options(o).remote(x)` would. `opts` is used as is (not copied): pass a fresh object.
 */
export function submitCall(
  handle: DeploymentHandle,
  opts: SubmitOptions,
  args: unknown[],
): DeploymentResponse<unknown> | DeploymentResponseStream<unknown> {
  return submitTo((handle as unknown as HandleImpl)._dispatcher, opts, args);
}

/** One call: its response (unary or stream) and the dispatcher's pending request behind it. */
function submitTo(
  dispatcher: DeploymentDispatcher,
  opts: SubmitOptions,
  args: unknown[],
): DeploymentResponse<unknown> | DeploymentResponseStream<unknown> {
  const sink = opts.stream ? new DeploymentResponseStream<unknown>() : new DeploymentResponse<unknown>();
  sink.dispatcher = dispatcher;
  const req = dispatcher.submit(args, opts, sink);
  if (req !== null && !req.done) sink.request = req;
  return sink;
}

/** @internal Default call options of a fresh handle. */
export function defaultCallOptions(): SubmitOptions {
  return { method: DEFAULT_METHOD, sessionId: null, stream: false, timeoutMs: 0, signal: undefined };
}

function mergeOptions(base: SubmitOptions, o: HandleCallOptions): SubmitOptions {
  if (typeof o !== "object" || o === null) {
    throw new ConfigError(`handle.options() expects an object of call options, got ${String(o)}`);
  }
  const next: SubmitOptions = { ...base };
  if (o.method !== undefined) {
    if (typeof o.method !== "string" || o.method.length === 0) {
      throw new ConfigError(`options.method must be a non-empty string, got ${JSON.stringify(o.method)}`);
    }
    next.method = o.method;
  }
  if (o.sessionId !== undefined) {
    if (o.sessionId !== null && typeof o.sessionId !== "string") {
      throw new ConfigError(`options.sessionId must be a string or null, got ${JSON.stringify(o.sessionId)}`);
    }
    next.sessionId = o.sessionId;
  }
  if (o.stream !== undefined) next.stream = o.stream === true;
  if (o.timeoutMs !== undefined) {
    if (typeof o.timeoutMs !== "number" || !(o.timeoutMs >= 0) || !Number.isFinite(o.timeoutMs)) {
      throw new ConfigError(
        `options.timeoutMs must be a number >= 0 (0 = none), got ${JSON.stringify(o.timeoutMs)}`,
      );
    }
    next.timeoutMs = o.timeoutMs;
  }
  if (o.signal !== undefined) next.signal = o.signal;
  if (o.http !== undefined) {
    // A cheap shape check per call (the proxy sets this on every request); the replica's decoder
    // checks every field and bound, and answers BAD_REQUEST for anything wrong.
    const h = o.http as Partial<HttpRequestInfo> | null;
    if (
      typeof h !== "object" ||
      h === null ||
      typeof h.method !== "string" ||
      typeof h.headers !== "object"
    ) {
      throw new ConfigError("options.http must be { method, path, query, headers } (HttpRequestInfo)");
    }
    next.http = o.http;
  }
  if (o.prefixKey !== undefined || o.multiplexedModelId !== undefined) routingOptions(next, o);
  return next;
}
