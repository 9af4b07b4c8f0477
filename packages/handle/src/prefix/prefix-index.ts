/**
 * An approximate picture of what each replica's prefix (KV) cache holds, built from what this
 * router sent where (SGLang's per-worker radix tree and Ray's prefix tree do the same). Prompts are
 * cut into blocks of `blockChars` characters; block i's key hashes block i's text together with
 * block i-1's key, so one key stands for the whole prefix up to it, as vLLM's block hashes do, and
 * a lookup walks the prompt's keys until the first one the replica does not hold.
 *
 * Each replica keeps at most `maxBlocks` keys, evicting the least recently routed (a Map's
 * insertion order is the LRU order). A prompt's keys are refreshed last block first, so its first
 * blocks are the most recent: eviction eats a prefix from its tail, never its head, and a shared
 * system prompt outlives the conversations built on it, as in a real KV cache.
 */
export class PrefixIndex {
  private readonly byReplica = new Map<string, Map<number, true>>();

  constructor(
    readonly blockChars: number,
    readonly maxBlocks: number,
  ) {}

  /** The prompt's chained block keys (full blocks only: a partial block is not reusable). */
  keys(text: string): number[] {
    const n = Math.floor(text.length / this.blockChars);
    const out = new Array<number>(n);
    let a = 0x811c9dc5;
    let b = 0x9e3779b9;
    for (let blk = 0, i = 0; blk < n; blk++) {
      for (const end = i + this.blockChars; i < end; i++) {
        const c = text.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
      }
      // 53 bits: every key is an exact double, so Map lookups compare numbers, not strings.
      out[blk] = (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
    }
    return out;
  }

  /** How many of `keys`' leading blocks `replicaId` holds. */
  match(replicaId: string, keys: readonly number[]): number {
    const held = this.byReplica.get(replicaId);
    if (held === undefined) return 0;
    let i = 0;
    while (i < keys.length && held.has(keys[i]!)) i++;
    return i;
  }

  /** `replicaId` was sent a prompt with these keys: it holds them now (most recent first block). */
  insert(replicaId: string, keys: readonly number[]): void {
    let held = this.byReplica.get(replicaId);
    if (held === undefined) this.byReplica.set(replicaId, (held = new Map()));
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      held.delete(k);
      held.set(k, true);
    }
    if (held.size > this.maxBlocks) {
      const it = held.keys();
      for (let over = held.size - this.maxBlocks; over > 0; over--) held.delete(it.next().value!);
    }
  }

  /** A correction from the replica: it no longer holds these keys. */
  evict(replicaId: string, keys: readonly number[]): void {
    const held = this.byReplica.get(replicaId);
    if (held !== undefined) for (const k of keys) held.delete(k);
  }

  /** Blocks believed cached on `replicaId` (Ray's "least prefix-cache use" compares these). */
  size(replicaId: string): number {
    return this.byReplica.get(replicaId)?.size ?? 0;
  }

  /** Forgets a replica (it died: its cache died with it). */
  drop(replicaId: string): void {
    this.byReplica.delete(replicaId);
  }

  /** Keeps only the replicas in `ids` (membership changed). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.byReplica.keys()) if (!ids.has(id)) this.byReplica.delete(id);
  }
}
