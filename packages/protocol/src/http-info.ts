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

/**
 * The HTTP info as the proxy sends it and the replica reads it: the raw header list (Node's
 * `rawHeaders`, name and value alternating) travels as is, and `headers` is built from it on
 * first read. The proxy so copies no header per request, and a deployment that never looks at
 * the headers never pays for the map.
 */
export class RawHttpInfo implements HttpRequestInfo {
  #headers: Record<string, string> | undefined;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: string,
    /** Header names and values, alternating, as received (names in their original case). */
    readonly rawHeaders: readonly string[],
  ) {}

  get headers(): Readonly<Record<string, string>> {
    if (this.#headers === undefined) {
      const h: Record<string, string> = {};
      const raw = this.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        const prev = h[name];
        h[name] = prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`;
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  /** What `JSON.stringify` shows (the getter is not an own property). */
  toJSON(): HttpRequestInfo {
    return { method: this.method, path: this.path, query: this.query, headers: this.headers };
  }
}

/** Validates the HTTP info of a request message (position after the fixed fields); null → undefined. */
export function decodeHttpInfo(v: unknown): HttpRequestInfo | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 4)
    throw new ProtocolError("http info must be a 4-element array [method, path, query, rawHeaders]");
  const [m, p, q, h] = v as unknown[];
  const method = str("method", m, HTTP_INFO_LIMITS.methodChars);
  const path = str("path", p, HTTP_INFO_LIMITS.pathChars);
  const query = str("query", q, HTTP_INFO_LIMITS.queryChars);
  if (!Array.isArray(h) || h.length % 2 !== 0)
    throw new ProtocolError("http.rawHeaders must be a list of header names and values");
  if (h.length > 2 * HTTP_INFO_LIMITS.headers)
    throw new ProtocolError(`http.rawHeaders has more than ${HTTP_INFO_LIMITS.headers} headers`);
  for (let i = 0; i < h.length; i += 2) {
    const name: unknown = h[i];
    const value: unknown = h[i + 1];
    if (typeof name !== "string" || name.length > HTTP_INFO_LIMITS.headerNameChars)
      throw new ProtocolError(
        `http.rawHeaders[${i}] must be a header name of at most ${HTTP_INFO_LIMITS.headerNameChars} characters`,
      );
    if (typeof value !== "string" || value.length > HTTP_INFO_LIMITS.headerValueChars)
      throw new ProtocolError(
        `http.rawHeaders[${i + 1}] must be a header value of at most ${HTTP_INFO_LIMITS.headerValueChars} characters`,
      );
  }
  return new RawHttpInfo(method, path, query, h as string[]);
}

/** The wire form of {@link HttpRequestInfo}: positional, like the rest of the request body. */
export function httpInfoTuple(info: HttpRequestInfo): [string, string, string, readonly string[]] {
  if (info instanceof RawHttpInfo) return [info.method, info.path, info.query, info.rawHeaders];
  const raw: string[] = [];
  for (const name in info.headers) raw.push(name, info.headers[name]!);
  return [info.method, info.path, info.query, raw];
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
