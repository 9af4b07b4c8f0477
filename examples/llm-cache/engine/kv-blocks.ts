/**
 * Chained block hashes over token ids, as vLLM's prefix caching keys its KV blocks: block i's key
 * hashes block i's tokens with block i-1's key, so equal keys mean equal prefixes. Shared by the
 * engine (its cache) and the bench's oracle (which knows every cache from the engines' reports).
 */
export function blockKeys(tokens: readonly number[], blockTokens: number): number[] {
  const n = Math.floor(tokens.length / blockTokens);
  const out = new Array<number>(n);
  let a = 0x811c9dc5;
  let b = 0x27d4eb2f;
  for (let blk = 0, i = 0; blk < n; blk++) {
    for (const end = i + blockTokens; i < end; i++) {
      const t = tokens[i]!;
      a = Math.imul(a ^ t, 0x01000193);
      b = Math.imul(b ^ t, 0x85ebca6b) ^ (b >>> 13);
    }
    out[blk] = (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
  }
  return out;
}
