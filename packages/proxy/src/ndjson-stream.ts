import type { ServerResponse } from "node:http";
import { errorBody, sendError } from "./http-errors.js";

/** Content type of streamed answers: one JSON value per line. */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

/** The answer's HTTP status, for metrics: 200 once streaming began, else the error's status. */
export type StreamStatus = number;

function once(res: ServerResponse, event: "drain" | "close"): Promise<void> {
  return new Promise((resolve) => res.once(event, () => resolve()));
}

/** Serialises one chunk as a line; values JSON cannot carry become `null` like JSON.stringify does in arrays. */
function line(value: unknown): string {
  return `${JSON.stringify(value) ?? "null"}\n`;
}

async function closeQuietly(it: AsyncIterator<unknown>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // Already failed or finished; nothing more to stop.
  }
}

/**
 * Writes a stream of chunks as NDJSON with chunked transfer encoding.
 *
 * Headers wait for the first chunk: a call that fails before producing anything (back-pressure,
 * unknown method, timeout) still gets its proper status code. After that the status is 200 and an
 * error can only be reported in-band, as a final `{"error":{code,name,message}}` line.
 *
 * Honours socket back-pressure (waits for `drain`), and stops reading the stream when the client
 * goes away (the caller's AbortSignal cancels the call itself).
 *
 * The error that ended the stream, before or after its first chunk, is kept in `failure.error`
 * (the caller's per-request outcome, so the proxy can log it without another object per stream).
 */
export async function writeNdjson(
  res: ServerResponse,
  chunks: AsyncIterable<unknown>,
  failure: { error: unknown } = { error: undefined },
): Promise<StreamStatus> {
  const it = chunks[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await it.next();
  } catch (error) {
    failure.error = error;
    return sendError(res, error);
  }
  if (res.destroyed) {
    await closeQuietly(it);
    return 499;
  }
  res.writeHead(200, {
    "content-type": `${NDJSON_CONTENT_TYPE}; charset=utf-8`,
    "cache-control": "no-cache",
  });
  // Send headers now: a client following a slow stream should see it start.
  res.flushHeaders();
  let next = first;
  try {
    while (!next.done) {
      let text: string;
      try {
        text = line(next.value);
      } catch (cause) {
        throw new TypeError(`stream chunk is not JSON-serialisable: ${(cause as Error).message}`, { cause });
      }
      if (!res.write(text)) {
        await Promise.race([once(res, "drain"), once(res, "close")]);
      }
      if (res.destroyed) {
        await closeQuietly(it);
        return 499;
      }
      next = await it.next();
    }
  } catch (error) {
    failure.error = error;
    // The iterator may still be open (a chunk failed to serialise): close it so the replica stops.
    await closeQuietly(it);
    if (!res.destroyed) res.write(line(errorBody(error)));
  }
  res.end();
  return 200;
}
