/**
 * Session header matching, as in Ray Serve (PR #62905, #63362): the configured name matches
 * case-insensitively with `-` and `_` treated as equal, because some proxies rewrite `_` to `-`
 * (and others drop headers with `_`, so clients send either).
 */

/** Canonical form of a header name for comparison: lower case, `_` → `-`. */
export function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/**
 * Finds the session id in `rawHeaders` (Node's flat `[name, value, name, value, …]` list, which keeps
 * `_` in names that `req.headers` would also keep, but lets us compare names our own way).
 * `normalizedName` must come from {@link normalizeHeaderName}. Returns null when the header is
 * absent or empty; the first non-empty occurrence wins.
 */
export function findSessionId(rawHeaders: readonly string[], normalizedName: string): string | null {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    // Cheap length check first: most headers are not the session header.
    if (name.length !== normalizedName.length) continue;
    if (normalizeHeaderName(name) !== normalizedName) continue;
    const value = (rawHeaders[i + 1] as string).trim();
    if (value.length > 0) return value;
  }
  return null;
}

/** Builds a matcher for one configured header name: `(rawHeaders) => sessionId | null`. */
export function sessionIdReader(headerName: string): (rawHeaders: readonly string[]) => string | null {
  const normalized = normalizeHeaderName(headerName);
  return (rawHeaders) => findSessionId(rawHeaders, normalized);
}
