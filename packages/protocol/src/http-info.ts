import { ProtocolError } from "./errors.js";

/**
 * HTTP for user code: what the proxy tells a deployment about the HTTP request it serves, and the
 * marked value a deployment returns to shape the HTTP answer. Both are plain data, so they cross
 * the wire (msgpack) and JSON unchanged.
 */

/** The HTTP request behind a call, as user code reads it from `getRequestContext().http`. */
export interface HttpRequestInfo {
  /** Request method, upper case (`GET`, `POST`). */
  readonly method: string;
  /** The path below the route prefix, starting with `/` (`/chat/reply` under `/chat` → `/reply`). */
  readonly path: string;
  /** The raw query string without `?` (`""` when none); parse it with `new URLSearchParams(query)`. */
  readonly query: string;
  /** Request headers, names in lower case; repeated headers joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Bounds a decoded {@link HttpRequestInfo} must keep (the proxy's own limits are tighter). */
export const HTTP_INFO_LIMITS = {
  methodChars: 32,
  pathChars: 16 * 1024,
  queryChars: 16 * 1024,
  headers: 1000,
  headerNameChars: 1024,
  headerValueChars: 64 * 1024,
} as const;

function str(field: string, v: unknown, max: number): string {
  if (typeof v !== "string") throw new ProtocolError(`http.${field} must be a string`);
  if (v.length > max) throw new ProtocolError(`http.${field} is longer than ${max} characters`);
  return v;
}

/** Validates the HTTP info of a request message (position after the fixed fields); null → undefined. */
export function decodeHttpInfo(v: unknown): HttpRequestInfo | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 4)
    throw new ProtocolError("http info must be a 4-element array [method, path, query, headers]");
  const [m, p, q, h] = v as unknown[];
  const method = str("method", m, HTTP_INFO_LIMITS.methodChars);
  const path = str("path", p, HTTP_INFO_LIMITS.pathChars);
  const query = str("query", q, HTTP_INFO_LIMITS.queryChars);
  if (typeof h !== "object" || h === null || Array.isArray(h))
    throw new ProtocolError("http.headers must be a map of strings");
  const entries = Object.entries(h as Record<string, unknown>);
  if (entries.length > HTTP_INFO_LIMITS.headers)
    throw new ProtocolError(`http.headers has more than ${HTTP_INFO_LIMITS.headers} entries`);
  for (const [name, value] of entries) {
    if (name.length > HTTP_INFO_LIMITS.headerNameChars)
      throw new ProtocolError(`http.headers name longer than ${HTTP_INFO_LIMITS.headerNameChars} characters`);
    str(`headers[${JSON.stringify(name.slice(0, 64))}]`, value, HTTP_INFO_LIMITS.headerValueChars);
  }
  return { method, path, query, headers: h as Record<string, string> };
}

/** The wire form of {@link HttpRequestInfo}: positional, like the rest of the request body. */
export function httpInfoTuple(info: HttpRequestInfo): [string, string, string, Record<string, string>] {
  return [info.method, info.path, info.query, info.headers as Record<string, string>];
}

/** Key marking a value as an HTTP answer (a plain key, so the mark survives msgpack and JSON). */
export const HTTP_RESPONSE_MARK = "__tsserve_http_response__";

/** What `httpResponse()` takes: the answer's status, headers and body. */
export interface HttpResponseInit {
  /** HTTP status code, 100–599. @default 200 */
  status?: number;
  /** Response headers. */
  headers?: Record<string, string>;
  /**
   * The body: a string (sent as is; `text/plain` unless a content-type header is given), bytes
   * (`application/octet-stream`), or any other value (JSON). @default no body
   */
  body?: unknown;
}

/** A shaped HTTP answer (see {@link httpResponse}). Over gRPC or a handle it is returned as is. */
export interface HttpResponse {
  readonly [HTTP_RESPONSE_MARK]: 1;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/**
 * Returns an answer the HTTP proxy sends with this status, headers and body (instead of the JSON
 * of the return value with status 200):
 *
 * ```ts
 * return httpResponse({ status: 201, headers: { location: "/items/7" }, body: { id: 7 } });
 * ```
 */
export function httpResponse(init: HttpResponseInit = {}): HttpResponse {
  const status = init.status ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`httpResponse: status must be an integer 100-599, got ${String(status)}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k] = String(v);
  return { [HTTP_RESPONSE_MARK]: 1, status, headers, body: init.body };
}

/** True for a value made by {@link httpResponse} (also after it crossed the wire). */
export function isHttpResponse(v: unknown): v is HttpResponse {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[HTTP_RESPONSE_MARK] === 1;
}
