/**
 * Why a value could not be encoded, found by an iterative walk (no recursion, so it works on the
 * very values that overflow the encoder's stack). It runs only after the encoder failed, so the
 * hot path pays nothing for it.
 */

/** The nesting the wire is documented to carry; msgpackr's recursive encoder stops near 1,400. */
export const MAX_NESTING_DEPTH = 1000;

// Bounds the walk itself: a huge flat value that failed for another reason is not walked to the end.
const MAX_VISITS = 1_000_000;

/** What was wrong, in words for an error message, and as a short machine-readable reason. */
export interface EncodeDiagnosis {
  reason: "cycle" | "depth" | "type";
  detail: string;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

function children(v: object): Iterable<[string, unknown]> {
  if (Array.isArray(v)) return v.map((x, i): [string, unknown] => [`[${i}]`, x]);
  if (v instanceof Map) return [...v].map(([k, x]): [string, unknown] => [`.get(${String(k)})`, x]);
  if (v instanceof Set) return [...v].map((x, i): [string, unknown] => [`{${i}}`, x]);
  return Object.keys(v).map((k): [string, unknown] => [`.${k}`, (v as Record<string, unknown>)[k]]);
}

function pathText(keys: readonly string[]): string {
  const text = `$${keys.join("")}`;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Explains an encoder failure `cause` for `value`: a cycle (with the path that closes it), nesting
 * deeper than the stack allows (with the depth found), or the encoder's own complaint (a symbol, a
 * BigInt over 64 bits, a getter that throws).
 */
export function diagnoseEncodeFailure(value: unknown, cause: unknown): EncodeDiagnosis {
  const onPath = new Set<object>();
  const pathObjects: object[] = [];
  const pathKeys: string[] = [];
  const stack: { v: unknown; key: string; depth: number }[] = [{ v: value, key: "", depth: 0 }];
  let maxDepth = 0;
  let visits = 0;
  try {
    while (stack.length > 0 && visits++ < MAX_VISITS) {
      const { v, key, depth } = stack.pop()!;
      while (pathObjects.length > depth) {
        onPath.delete(pathObjects.pop()!);
        pathKeys.pop();
      }
      if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
      if (onPath.has(v)) {
        return {
          reason: "cycle",
          detail: `it is cyclic: ${pathText([...pathKeys.slice(1), key])} refers back to an enclosing value`,
        };
      }
      if (depth > maxDepth) maxDepth = depth;
      onPath.add(v);
      pathObjects.push(v);
      pathKeys.push(key);
      for (const [k, x] of children(v)) stack.push({ v: x, key: k, depth: depth + 1 });
    }
  } catch (e) {
    // A getter or proxy trap threw while walking; the encoder's own message says the same.
    void e;
  }
  if (isStackOverflow(cause)) {
    return {
      reason: "depth",
      detail: `it is nested ${maxDepth} levels deep; the wire carries up to about ${MAX_NESTING_DEPTH}`,
    };
  }
  const why = cause instanceof Error ? cause.message : String(cause);
  return { reason: "type", detail: `it holds a value the wire cannot carry (${why})` };
}
