import { MAX_NESTING_DEPTH } from "./encode-diagnosis.js";
import { BadRequestError, ProtocolError, TsserveError } from "./errors.js";

/**
 * The JSON fast path of HTTP ingress calls (RequestFlags.JSON): the proxy forwards the request
 * body's JSON text untouched and the replica parses it; the replica answers with the JSON text of
 * the result, which the proxy writes untouched. The proxy so pays no JSON parse, no msgpack
 * re-encoding and no JSON serialisation per call (the ingress process is the one shared by every
 * request), and the replica parses JSON where it would have decoded msgpack: about the same work.
 * Ray Serve's ingress replicas parse their HTTP bodies themselves too.
 */

// Nesting deeper than MAX_NESTING_DEPTH needs at least two bytes per level: shorter texts are
// never walked, so the common small body costs only JSON.parse.
const WALK_ABOVE_BYTES = 2 * MAX_NESTING_DEPTH;
// Bounds the depth walk of a huge flat value.
const MAX_VISITS = 1_000_000;

function utf8(bytes: Uint8Array): string {
  return (
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ).toString("utf8");
}

/** Nesting depth of a parsed JSON value (iterative: the values it guards against overflow a stack). */
function depthOf(value: unknown): number {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  let max = 0;
  let visits = 0;
  while (stack.length > 0 && visits++ < MAX_VISITS) {
    const { v, d } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d > max) max = d;
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof x === "object" && x !== null) stack.push({ v: x, d: d + 1 });
    }
  }
  return max + 1;
}

/**
 * The call's arguments from an HTTP body's JSON text: no body (or only whitespace) → one
 * `undefined` argument, as the proxy has always passed; otherwise the JSON value. Invalid JSON is a
 * ProtocolError quoting the parser, nesting deeper than {@link MAX_NESTING_DEPTH} a
 * BadRequestError (both 400 over HTTP).
 */
export function parseJsonArgs(body: Uint8Array): unknown[] {
  if (body.length === 0) return [undefined];
  const text = utf8(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    if (text.trim().length === 0) return [undefined];
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ProtocolError(
      `request body is not valid JSON (${body.length} bytes): ${why}; send a JSON value or no body`,
      { cause },
    );
  }
  if (body.length > WALK_ABOVE_BYTES && typeof value === "object" && value !== null) {
    const depth = depthOf(value);
    if (depth > MAX_NESTING_DEPTH) {
      throw new BadRequestError(
        `request body is nested ${depth} levels deep; tsserve takes values nested up to ${MAX_NESTING_DEPTH} levels`,
        { data: { reason: "depth" } },
      );
    }
  }
  return [value];
}

/**
 * The JSON text of a unary result (undefined → `null`), as UTF-8 bytes the proxy writes as the
 * response body. A value JSON cannot express (a cycle, a BigInt) is an INTERNAL error naming
 * `where` (the deployment and method), as the proxy answered before this path existed.
 */
export function jsonReplyBytes(value: unknown, where: string): Uint8Array {
  let text: string;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (cause) {
    throw new TsserveError(
      "INTERNAL",
      `result of ${where} is not JSON-serialisable: ${(cause as Error).message}`,
      { cause },
    );
  }
  // JSON.stringify returns undefined for a function or symbol result: answer null, as for undefined.
  return Buffer.from(text ?? "null", "utf8");
}
