/**
 * "Did you mean …?" for unknown config fields. Ray Serve users type `num_replicas` and
 * `max_ongoing_requests`; everyone mistypes. A suggestion is made when the snake_case (or
 * kebab-case) spelling converts to a known camelCase field, or when a known field is within a small
 * edit distance (case-insensitive), so `numReplica`, `numreplicas` and `maxOngoingRequest` all find
 * their field, while an unrelated name gets no guess.
 */

/** `num_replicas` / `num-replicas` → `numReplicas`; other names unchanged. */
export function toCamelCase(name: string): string {
  return name.replace(/[_-]+([A-Za-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string alignment), since
 * `nmae` for `name` is one slip of the fingers, not two. Fine for field names (tens of characters).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        d[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]!.push(v);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known field `unknown` most likely meant, or undefined. Exact camelCase conversion wins; else
 * the closest name (case-insensitive) within a third of its length (at least 1, at most 3 edits).
 */
export function suggestField(unknown: string, known: readonly string[]): string | undefined {
  const camel = toCamelCase(unknown);
  const exact = known.find((k) => k === camel || k.toLowerCase() === camel.toLowerCase());
  if (exact !== undefined) return exact;
  const limit = Math.min(3, Math.max(1, Math.floor(unknown.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const k of known) {
    const d = editDistance(camel.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** The message tail of an unknown field: the known fields, then a suggestion when there is one. */
export function unknownFieldMessage(unknown: string, known: readonly string[]): string {
  const guess = suggestField(unknown, known);
  return `unknown field; known fields are ${known.join(", ")}${guess === undefined ? "" : `; did you mean ${guess}?`}`;
}
