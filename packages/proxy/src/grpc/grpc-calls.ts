import { performance } from "node:perf_hooks";
import {
  status as Status,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { isMethodNotFoundError } from "@tsserve/protocol";
import type { ProxyMetrics } from "../metrics.js";
import type { ProxyLog } from "../proxy-log.js";
import { RequestCancelledError } from "@tsserve/protocol";
import type { CallFn, CallResponse, ProxyCallOptions } from "../request-handler.js";
import type { RpcInfo } from "./grpc-services.js";

/** What unary and streaming calls share (grpc-js does not export its ServerSurfaceCall type). */
type ServerSurfaceCall = Pick<
  ServerUnaryCall<object, object>,
  "getDeadline" | "metadata" | "once" | "cancelled"
>;
import { GrpcCallError, grpcStatusFor } from "./grpc-status.js";
import { loggedSessionId, type GrpcApplications, type GrpcTarget } from "./grpc-target.js";

/** What the RPC handlers need from the proxy. */
export interface GrpcCallContext {
  apps: GrpcApplications;
  call: CallFn;
  metrics: ProxyMetrics;
  /** Failed calls and the opt-in access log. */
  log: ProxyLog;
  /** Upper bound of one call; a shorter client deadline wins. */
  requestTimeoutMs: number;
}

/**
 * Which deployment method serves an RPC: the exact RPC name, else its lowerCamel form. The first
 * call of an RPC tries the exact name and, on METHOD_NOT_FOUND (nothing ran), the other one; the
 * name that worked is remembered per (application, ingress, RPC), and forgotten again if it ever
 * stops working (a redeploy renamed the method).
 */
class MethodNames {
  private readonly known = new Map<string, string>();

  first(key: string, rpc: RpcInfo): string {
    return this.known.get(key) ?? rpc.exactName;
  }

  /** The other candidate after `tried` failed with METHOD_NOT_FOUND, or null when there is none. */
  other(rpc: RpcInfo, tried: string): string | null {
    if (rpc.exactName === rpc.camelName) return null;
    return tried === rpc.exactName ? rpc.camelName : rpc.exactName;
  }

  worked(key: string, name: string): void {
    if (this.known.get(key) !== name) this.known.set(key, name);
  }

  forget(key: string): void {
    this.known.delete(key);
  }
}

/** Milliseconds left before the client's deadline, capped by `limitMs` (no deadline → `limitMs`). */
export function timeLeftMs(call: ServerSurfaceCall, limitMs: number): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  if (!Number.isFinite(at)) return limitMs;
  return Math.min(Math.floor(at - Date.now()), limitMs);
}

function notFoundBoth(rpc: RpcInfo, target: GrpcTarget, cause: unknown): GrpcCallError {
  const names =
    rpc.exactName === rpc.camelName ? `"${rpc.exactName}"` : `"${rpc.exactName}" or "${rpc.camelName}"`;
  const why = cause instanceof Error ? `: ${cause.message}` : "";
  return new GrpcCallError(
    Status.UNIMPLEMENTED,
    `RPC ${rpc.path}: ingress deployment ${target.ingress} of application ${target.app} has no method ${names}${why}`,
  );
}

/** A call ended with `code` (and `error` when it failed): metrics, and the lines that are due. */
function done(
  ctx: GrpcCallContext,
  rpc: RpcInfo,
  call: ServerSurfaceCall,
  start: number,
  code: Status,
  error?: unknown,
): void {
  const ms = performance.now() - start;
  ctx.metrics.observeGrpc(rpc.path, Status[code] ?? String(code), ms / 1000);
  // The metadata is read only for a failed call or when the access log is on.
  if (error !== undefined) ctx.log.grpcFailed(rpc.path, code, error, loggedSessionId(call.metadata));
  if (ctx.log.accessLog) ctx.log.grpcCall(rpc.path, code, ms, loggedSessionId(call.metadata));
}

/** Client- and bidirectional-streaming RPCs: UNIMPLEMENTED with a message that says why. */
function unsupported(rpc: RpcInfo): UntypedHandleCall {
  const kind = rpc.responseStream ? "bidirectional-streaming" : "client-streaming";
  const status = {
    code: Status.UNIMPLEMENTED,
    details: `RPC ${rpc.path} is ${kind}; the tsserve gRPC ingress serves unary and server-streaming RPCs`,
  };
  if (rpc.responseStream) {
    const bidi: handleBidiStreamingCall<object, object> = (call) => call.emit("error", status);
    return bidi;
  }
  const clientStream: handleClientStreamingCall<object, object> = (_call, callback) => callback(status);
  return clientStream;
}

/** Builds the grpc-js handler of one RPC: unary, server-streaming, or UNIMPLEMENTED for the others. */
export function rpcHandler(ctx: GrpcCallContext, rpc: RpcInfo): UntypedHandleCall {
  const names = new MethodNames();
  if (rpc.requestStream) return unsupported(rpc);
  if (rpc.responseStream) {
    const handler: handleServerStreamingCall<object, object> = (call) =>
      void serveStream(ctx, rpc, names, call);
    return handler;
  }
  const handler: handleUnaryCall<object, object> = (call, callback) => {
    const start = performance.now();
    serveUnary(ctx, rpc, names, call).then(
      (value) => {
        callback(null, value);
        done(ctx, rpc, call, start, Status.OK);
      },
      (error: unknown) => {
        const s = grpcStatusFor(error);
        callback(s);
        done(ctx, rpc, call, start, s.code, error);
      },
    );
  };
  return handler;
}

/** Resolves target, deadline and cancellation of a call; throws GrpcCallError for bad metadata. */
function prepare(ctx: GrpcCallContext, call: ServerSurfaceCall) {
  const target = ctx.apps.resolve(call.metadata);
  const deadlineAt = Date.now() + timeLeftMs(call, ctx.requestTimeoutMs);
  // The client went away or its deadline passed: stop routing, stop the replica's stream. (The
  // call in flight is cancelled directly: an AbortController per call costs ~2 % of throughput.)
  const inFlight: { current: CallResponse | undefined } = { current: undefined };
  call.once("cancelled", () => inFlight.current?.cancel());
  return { target, deadlineAt, inFlight };
}

/** Call options of one attempt; the time left before the deadline becomes the call's timeout. */
function options(
  call: ServerSurfaceCall,
  target: GrpcTarget,
  method: string,
  stream: boolean,
  deadlineAt: number,
): ProxyCallOptions {
  if (call.cancelled) throw new RequestCancelledError("the gRPC client cancelled the call");
  const timeoutMs = deadlineAt - Date.now();
  if (timeoutMs <= 0)
    throw new GrpcCallError(Status.DEADLINE_EXCEEDED, "deadline exceeded before the call was sent");
  const o: ProxyCallOptions = { sessionId: target.sessionId, method, stream, timeoutMs, signal: undefined };
  if (target.multiplexedModelId !== undefined) o.multiplexedModelId = target.multiplexedModelId;
  return o;
}

async function serveUnary(
  ctx: GrpcCallContext,
  rpc: RpcInfo,
  names: MethodNames,
  call: ServerUnaryCall<object, object>,
): Promise<object> {
  const { target, deadlineAt, inFlight } = prepare(ctx, call);
  const key = `${target.app}\u0000${target.ingress}\u0000${rpc.path}`;
  let method = names.first(key, rpc);
  let triedOther = false;
  for (;;) {
    try {
      const opts = options(call, target, method, false, deadlineAt);
      const response = ctx.call(target.app, target.ingress, opts, call.request);
      inFlight.current = response;
      const value = await (response as unknown as PromiseLike<unknown>);
      names.worked(key, method);
      return (value ?? {}) as object;
    } catch (error) {
      if (!isMethodNotFoundError(error)) throw error;
      names.forget(key);
      const other = names.other(rpc, method);
      if (other === null || triedOther) throw notFoundBoth(rpc, target, error);
      triedOther = true;
      method = other;
    }
  }
}

function once(call: ServerWritableStream<object, object>, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const fire = (): void => {
      for (const e of events) call.off(e, fire);
      resolve();
    };
    for (const e of events) call.once(e, fire);
  });
}

async function closeQuietly(it: AsyncIterator<unknown>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // Already failed or finished.
  }
}

/**
 * A server-streaming RPC: iterates the handle's stream and writes each chunk, waiting for
 * 'drain' when grpc-js's buffer is full, so a slow client slows the replica's generator down
 * (the handle stream pulls only as fast as this loop). Errors before the first chunk get their
 * own status; after it, the stream ends with the error's status.
 */
async function serveStream(
  ctx: GrpcCallContext,
  rpc: RpcInfo,
  names: MethodNames,
  call: ServerWritableStream<object, object>,
): Promise<void> {
  const start = performance.now();
  let it: AsyncIterator<unknown> | undefined;
  try {
    const { target, deadlineAt, inFlight } = prepare(ctx, call);
    const key = `${target.app}\u0000${target.ingress}\u0000${rpc.path}`;
    let method = names.first(key, rpc);
    let triedOther = false;
    let next: IteratorResult<unknown>;
    for (;;) {
      const opts = options(call, target, method, true, deadlineAt);
      const response = ctx.call(target.app, target.ingress, opts, call.request);
      inFlight.current = response;
      it = (response as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      try {
        next = await it.next();
        names.worked(key, method);
        break;
      } catch (error) {
        if (!isMethodNotFoundError(error)) throw error;
        names.forget(key);
        const other = names.other(rpc, method);
        if (other === null || triedOther) throw notFoundBoth(rpc, target, error);
        triedOther = true;
        method = other;
      }
    }
    while (!next.done) {
      if (call.cancelled) break;
      if (!call.write(next.value ?? {})) await once(call, ["drain", "cancelled", "close"]);
      if (call.cancelled) break;
      next = await it.next();
    }
    if (call.cancelled) {
      await closeQuietly(it);
      done(ctx, rpc, call, start, Status.CANCELLED);
      return;
    }
    call.end();
    done(ctx, rpc, call, start, Status.OK);
  } catch (error) {
    if (it !== undefined) await closeQuietly(it);
    const s = grpcStatusFor(error);
    if (!call.cancelled) call.emit("error", s);
    done(ctx, rpc, call, start, s.code, error);
  }
}
