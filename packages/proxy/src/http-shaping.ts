import type { IncomingMessage, ServerResponse } from "node:http";
import { TsserveError, type HttpRequestInfo, type HttpResponse } from "@tsserve/protocol";
import { RawHttpInfo } from "@tsserve/protocol/internal";
import { sendError } from "./http-errors.js";

/**
 * HTTP for user code, proxy side: the request info the proxy forwards to the ingress, and the
 * answer it sends when the ingress returns `httpResponse({ status, headers, body })`.
 */

/**
 * Method, path below the route prefix, query and headers of `req`, as the replica receives them.
 * The raw header list goes as is (no per-request copy); the replica builds the header map only
 * if user code reads it.
 */
export function requestInfo(
  req: IncomingMessage,
  routePrefix: string,
  path: string,
  query: string,
): HttpRequestInfo {
  const below = routePrefix === "/" ? path : path.slice(routePrefix.length);
  return new RawHttpInfo(req.method ?? "GET", below === "" ? "/" : below, query, req.rawHeaders);
}

const JSON_TYPE = "application/json; charset=utf-8";

function hasHeader(headers: Record<string, string>, name: string): boolean {
  for (const k in headers) if (k.toLowerCase() === name) return true;
  return false;
}

/**
 * Sends a shaped answer. A string body goes as is (`text/plain` unless the user set a content
 * type), bytes as `application/octet-stream`, anything else as JSON; no body → empty. Headers Node
 * refuses (bad characters) turn the answer into a 500 that names them.
 */
export function sendHttpResponse(res: ServerResponse, r: HttpResponse, where: string): number {
  let body: string | Uint8Array | undefined;
  let type: string | undefined;
  const b = r.body;
  if (b === undefined || b === null) body = undefined;
  else if (typeof b === "string") {
    body = b;
    type = "text/plain; charset=utf-8";
  } else if (b instanceof Uint8Array) {
    body = b;
    type = "application/octet-stream";
  } else {
    try {
      body = JSON.stringify(b);
    } catch (cause) {
      return sendError(
        res,
        new TsserveError("INTERNAL", `httpResponse body of ${where} is not JSON-serialisable`, { cause }),
      );
    }
    type = JSON_TYPE;
  }
  const headers = typeof r.headers === "object" && r.headers !== null ? r.headers : {};
  try {
    for (const k in headers) res.setHeader(k, String(headers[k]));
    if (type !== undefined && !hasHeader(headers, "content-type")) res.setHeader("content-type", type);
    res.setHeader("content-length", body === undefined ? 0 : Buffer.byteLength(body));
    res.statusCode = r.status;
  } catch (cause) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return sendError(
      res,
      new TsserveError("INTERNAL", `httpResponse of ${where} is invalid: ${(cause as Error).message}`, {
        cause,
      }),
    );
  }
  res.end(body);
  return r.status;
}
