/** What one lookup-and-store did to the cache. */
export interface KvUpdate {
  /** Leading blocks of the prompt that were cached already. */
  hitBlocks: number;
  /** Keys newly stored (the uncached tail of the prompt). */
  stored: number[];
  /** Keys evicted to make room. */
  evicted: number[];
}

/**
 * One replica's KV cache: at most `capacity` blocks, least recently used evicted first (a Map's
 * insertion order is the LRU order). A prompt's blocks are touched last block first, so its head
 * is the most recent and eviction eats prefixes from the tail, as vLLM frees blocks.
 */
export class KvCache {
  private readonly blocks = new Map<number, true>();

  constructor(readonly capacity: number) {}

  /** Blocks held now. */
  get size(): number {
    return this.blocks.size;
  }

  /** Whether the block with this key is held. */
  has(key: number): boolean {
    return this.blocks.has(key);
  }

  /** Counts the prompt's cached leading blocks, then stores (and refreshes) all of them. */
  lookupAndStore(keys: readonly number[], report: boolean): KvUpdate {
    let hit = 0;
    while (hit < keys.length && this.blocks.has(keys[hit]!)) hit++;
    const stored: number[] = [];
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      if (!this.blocks.delete(k) && report) stored.push(k);
      this.blocks.set(k, true);
    }
    const evicted: number[] = [];
    if (this.blocks.size > this.capacity) {
      const it = this.blocks.keys();
      for (let over = this.blocks.size - this.capacity; over > 0; over--) {
        const k = it.next().value!;
        this.blocks.delete(k);
        if (report) evicted.push(k);
      }
    }
    return { hitBlocks: hit, stored, evicted };
  }
}
