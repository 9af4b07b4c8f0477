import type { Msg } from "nats";
import { errorToWire, ReplyKind, type RequestMessage } from "@tsserve/protocol";
import type { MethodEntry } from "./method-table.js";
import type { RequestServer } from "./request-server.js";

/**
 * How one accepted call runs. These are module-level functions, not closures, so that
 * AsyncLocalStorage.run can call them per request without allocating; they run inside the
 * request's context, so every `await` in user code keeps it.
 */

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Generator objects (sync or async): what a generator method returns. */
export function isGeneratorObject(v: unknown): v is AsyncGenerator | Generator {
  if (typeof v !== "object" || v === null) return false;
  const tag = (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return tag === "AsyncGenerator" || tag === "Generator";
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  );
}

/** A unary call: OK(value) or ERROR (user errors keep name and message). */
export function serveUnary(s: RequestServer, msg: Msg, req: RequestMessage, entry: MethodEntry): void {
  let result: unknown;
  try {
    result = entry.fn.apply(s.instance, req.args);
  } catch (e) {
    s.finish(msg, ReplyKind.ERROR, errorToWire(e, true));
    return;
  }
  if (isThenable(result)) void s.settle(msg, result);
  else s.finishValue(msg, result);
}

/**
 * Streams: STREAM_START at acceptance, then one CHUNK per value the (async) generator or async
 * iterable yields, then STREAM_END, or ERROR if the method throws. A method that returns any other
 * value (arrays included) streams it as a single chunk.
 */
export async function serveStream(
  s: RequestServer,
  msg: Msg,
  req: RequestMessage,
  entry: MethodEntry,
): Promise<void> {
  s.send(msg, ReplyKind.STREAM_START, s.ongoing);
  try {
    let result = entry.fn.apply(s.instance, req.args);
    if (isThenable(result)) result = await result;
    if (isAsyncIterable(result) || isGeneratorObject(result)) {
      for await (const chunk of result as AsyncIterable<unknown>) {
        // A chunk that cannot be sent ended the stream with an ERROR reply; stop the generator.
        if (!s.send(msg, ReplyKind.CHUNK, s.ongoing, chunk)) {
          s.finish(msg, ReplyKind.STREAM_END, undefined, true);
          return;
        }
      }
    } else if (!s.send(msg, ReplyKind.CHUNK, s.ongoing, result)) {
      s.finish(msg, ReplyKind.STREAM_END, undefined, true);
      return;
    }
  } catch (e) {
    s.finish(msg, ReplyKind.ERROR, errorToWire(e, true));
    return;
  }
  s.finish(msg, ReplyKind.STREAM_END);
}
