import type { Msg } from "nats";
import {
  encodeStreamFlow,
  errorToWire,
  jsonReplyBytes,
  ReplyKind,
  type RequestMessage,
} from "@tsserve/protocol/internal";
import { isHttpResponse, ProtocolError, RequestTimeoutError } from "@tsserve/protocol";
import type { MethodEntry } from "./method-table.js";
import { userErrorToWire } from "./user-error.js";
import type { LogLine, ReplyWriter } from "./reply-writer.js";
import { CreditWait, type StreamCredits, type StreamWindow } from "./stream-credits.js";

/**
 * How one accepted call runs. These are module-level functions, not closures, so that
 * AsyncLocalStorage.run can call them per request without allocating; they run inside the
 * request's context, so every `await` in user code keeps it.
 */

/** What a running call needs from its replica; built once by the request server. */
export interface CallScope {
  /** The deployment instance. */
  readonly instance: object;
  readonly replies: ReplyWriter;
  readonly credits: StreamCredits;
  readonly log: LogLine;
  /** The deployment's name, for error messages. */
  readonly deployment: string;
}

/**
 * A stream gives the event loop a turn at least this often, so heartbeats, probes and other calls
 * keep their latency even when a generator yields without ever awaiting.
 */
export const STREAM_YIELD_EVERY_MS = 4;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A promise or any object with a `then` method (what `await` waits for). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
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
export function serveUnary(s: CallScope, msg: Msg, req: RequestMessage, entry: MethodEntry): void {
  let result: unknown;
  try {
    result = entry.fn.apply(s.instance, req.args);
  } catch (e) {
    s.replies.finish(msg, ReplyKind.ERROR, userErrorToWire(e));
    return;
  }
  if (isThenable(result)) void settle(s, msg, req, result);
  else finishValue(s, msg, req, result);
}

/**
 * Ends a unary request with the method's result (or a clear error if it is a generator). A JSON
 * call (the proxy's fast path) gets the result's JSON text, unless it is an `httpResponse()`,
 * which the proxy shapes itself.
 */
function finishValue(s: CallScope, msg: Msg, req: RequestMessage, value: unknown): void {
  if (isGeneratorObject(value)) {
    void value.return(undefined);
    const e = new ProtocolError("the method returned a generator: call it with options({ stream: true })");
    s.replies.finish(msg, ReplyKind.ERROR, errorToWire(e));
    return;
  }
  if (req.json === true && !isHttpResponse(value)) {
    let text: Uint8Array;
    try {
      text = jsonReplyBytes(value, `${s.deployment}.${req.method}`);
    } catch (e) {
      s.replies.finish(msg, ReplyKind.ERROR, errorToWire(e));
      return;
    }
    s.replies.finish(msg, ReplyKind.OK, text);
    return;
  }
  s.replies.finish(msg, ReplyKind.OK, value);
}

/** Awaits an async method's result and ends the request. */
async function settle(
  s: CallScope,
  msg: Msg,
  req: RequestMessage,
  pending: PromiseLike<unknown>,
): Promise<void> {
  let value: unknown;
  try {
    value = await pending;
  } catch (e) {
    s.replies.finish(msg, ReplyKind.ERROR, userErrorToWire(e));
    return;
  }
  finishValue(s, msg, req, value);
}

/**
 * Streams: STREAM_START (with the credit subject and window) at acceptance, then one CHUNK per
 * value the (async) generator or async iterable yields, then STREAM_END, or ERROR if the method
 * throws. A method that returns any other value (arrays included) streams it as a single chunk.
 *
 * Flow control: at most a window of chunks and bytes goes out beyond the consumer's credit; then
 * the stream waits. A consumer that cancels stops the generator at once; one that stays silent for
 * the credit timeout is taken for gone and the stream ends with TIMEOUT.
 */
export async function serveStream(
  s: CallScope,
  msg: Msg,
  req: RequestMessage,
  entry: MethodEntry,
): Promise<void> {
  const r = s.replies;
  const window = msg.reply ? s.credits.open() : null;
  r.send(msg, ReplyKind.STREAM_START, r.ongoing, window === null ? undefined : encodeStreamFlow(window.flow));
  // Exactly one finish per call, even if the generator's own finally throws while it is closed.
  let finished = false;
  const end = (kind: ReplyKind, payload?: unknown, silent = false): void => {
    if (finished) return;
    finished = true;
    r.finish(msg, kind, payload, silent);
  };
  try {
    let result = entry.fn.apply(s.instance, req.args);
    if (isThenable(result)) result = await result;
    if (!isAsyncIterable(result) && !isGeneratorObject(result)) {
      // A value that cannot be sent ended the stream with an ERROR reply already.
      if (r.send(msg, ReplyKind.CHUNK, r.ongoing, result) < 0)
        return end(ReplyKind.STREAM_END, undefined, true);
      return end(ReplyKind.STREAM_END);
    }
    let lastTurn = performance.now();
    // Leaving this loop early (return) calls the generator's return(): its finally blocks run.
    for await (const chunk of result as AsyncIterable<unknown>) {
      // Wait before sending, not after: the last chunk is followed by STREAM_END at once.
      if (window !== null && (!window.open || window.cancelled)) {
        const wait = await window.waitForCredit();
        if (wait !== CreditWait.GRANTED) return consumerGone(s, req, window, wait, end);
        lastTurn = performance.now();
      }
      const bytes = r.send(msg, ReplyKind.CHUNK, r.ongoing, chunk);
      if (bytes < 0) return end(ReplyKind.STREAM_END, undefined, true);
      window?.sent(bytes);
      const now = performance.now();
      if (now - lastTurn >= STREAM_YIELD_EVERY_MS) {
        await turn();
        lastTurn = performance.now();
      }
    }
  } catch (e) {
    return end(ReplyKind.ERROR, userErrorToWire(e));
  } finally {
    if (window !== null) s.credits.close(window);
  }
  end(ReplyKind.STREAM_END);
}

/** Ends a stream whose consumer cancelled (quietly: nobody listens) or went silent (TIMEOUT). */
function consumerGone(
  s: CallScope,
  req: RequestMessage,
  w: StreamWindow,
  wait: CreditWait,
  end: (kind: ReplyKind, payload?: unknown, silent?: boolean) => void,
): void {
  if (wait === CreditWait.CANCELLED) return end(ReplyKind.STREAM_END, undefined, true);
  const text = `stream ${req.requestId} (${req.method}) ended: no credit from its consumer for ${w.flow.creditTimeoutMs} ms (consumer gone)`;
  s.log(text);
  end(ReplyKind.ERROR, errorToWire(new RequestTimeoutError(text)));
}
