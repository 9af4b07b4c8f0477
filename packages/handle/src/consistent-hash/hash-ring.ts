import { hashHi, hashKey, hashLo, murmur3x64h1 } from "./murmur3.js";

const utf8 = new TextEncoder();

/** Ring points in parallel typed arrays, sorted by (hi, lo, owner). */
interface Points {
  hi: Uint32Array;
  lo: Uint32Array;
  owner: Int32Array;
}

/** The points of `ring` whose replica survives (`remap[owner] >= 0`), owners renumbered. */
function keepPoints(ring: Points, remap: Int32Array): Points {
  let n = 0;
  for (let i = 0; i < ring.owner.length; i++) if (remap[ring.owner[i]!]! >= 0) n++;
  const out: Points = { hi: new Uint32Array(n), lo: new Uint32Array(n), owner: new Int32Array(n) };
  for (let i = 0, k = 0; i < ring.owner.length; i++) {
    const o = remap[ring.owner[i]!]!;
    if (o < 0) continue;
    out.hi[k] = ring.hi[i]!;
    out.lo[k] = ring.lo[i]!;
    out.owner[k++] = o;
  }
  return out;
}

/**
 * Merges two sorted runs. Equal hashes (64-bit collisions, practically never) order by replica
 * index, i.e. by replica id, so a ring built incrementally equals one built from scratch and every
 * router agrees.
 */
function mergePoints(a: Points, b: Points): Points {
  const an = a.hi.length;
  const bn = b.hi.length;
  const out: Points = {
    hi: new Uint32Array(an + bn),
    lo: new Uint32Array(an + bn),
    owner: new Int32Array(an + bn),
  };
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < an && j < bn) {
    const ah = a.hi[i]!;
    const bh = b.hi[j]!;
    const takeA =
      ah < bh || (ah === bh && (a.lo[i]! < b.lo[j]! || (a.lo[i] === b.lo[j] && a.owner[i]! < b.owner[j]!)));
    if (takeA) {
      out.hi[k] = ah;
      out.lo[k] = a.lo[i]!;
      out.owner[k++] = a.owner[i++]!;
    } else {
      out.hi[k] = bh;
      out.lo[k] = b.lo[j]!;
      out.owner[k++] = b.owner[j++]!;
    }
  }
  out.hi.set(a.hi.subarray(i), k);
  out.lo.set(a.lo.subarray(i), k);
  out.owner.set(a.owner.subarray(i), k);
  k += an - i;
  out.hi.set(b.hi.subarray(j), k);
  out.lo.set(b.lo.subarray(j), k);
  out.owner.set(b.owner.subarray(j), k);
  return out;
}

/**
 * A consistent-hash ring of replica ids, stored in typed arrays: point i has hash (hi[i], lo[i]) and
 * belongs to replica `ids[owner[i]]`. Points are sorted by unsigned 64-bit hash.
 *
 * Each replica's points (`${replicaId}:${v}` for v < virtualNodes) are hashed and sorted once and
 * cached by replica id, so a membership change merges sorted runs instead of rehashing and sorting.
 */
export class HashRing {
  /** Replica ids; `owner` holds indexes into this array. */
  ids: readonly string[] = [];
  /** High 32 bits of each point's hash, ascending (with `lo`). */
  hi: Uint32Array = new Uint32Array(0);
  /** Low 32 bits of each point's hash. */
  lo: Uint32Array = new Uint32Array(0);
  /** Index into `ids` of each point's replica. */
  owner: Int32Array = new Int32Array(0);

  // Per-replica sorted points, interleaved [hi0, lo0, hi1, lo1, …]. Entries of departed replicas
  // are dropped on the next rebuild so the cache cannot grow without bound under churn.
  private readonly pointCache = new Map<string, Uint32Array>();
  private index = new Map<string, number>();
  // Epoch stamps per replica index: a walk marks replicas seen without allocating a Set.
  private seenStamp = new Uint32Array(0);
  private epoch = 0;

  constructor(readonly virtualNodes: number) {}

  /** Number of points on the ring. */
  get size(): number {
    return this.hi.length;
  }

  /**
   * Rebuilds the ring for exactly the replica ids in `newIds` (duplicates ignored). Returns false,
   * doing nothing, when the set is unchanged.
   */
  rebuild(newIds: Iterable<string>): boolean {
    const next = [...new Set(newIds)].sort();
    if (next.length === this.ids.length && next.every((id, i) => id === this.ids[i])) return false;
    const newIndex = new Map<string, number>();
    next.forEach((id, i) => newIndex.set(id, i));

    // Surviving points keep their order; only their owner index is remapped. New replicas' cached
    // sorted runs are merged pairwise, then into the survivors: no hashing, no comparison sort.
    const remap = Int32Array.from(this.ids, (id) => newIndex.get(id) ?? -1);
    const oldIds = new Set(this.ids);
    const runs = next.filter((id) => !oldIds.has(id)).map((id) => this.runOf(id, newIndex.get(id)!));
    runs.push(keepPoints(this, remap));
    while (runs.length > 1) {
      const merged: Points[] = [];
      for (let r = 0; r + 1 < runs.length; r += 2) merged.push(mergePoints(runs[r]!, runs[r + 1]!));
      if (runs.length % 2 === 1) merged.push(runs[runs.length - 1]!);
      runs.splice(0, runs.length, ...merged);
    }
    const { hi, lo, owner } = runs[0]!;
    for (const id of this.pointCache.keys()) if (!newIndex.has(id)) this.pointCache.delete(id);
    this.ids = next;
    this.index = newIndex;
    this.hi = hi;
    this.lo = lo;
    this.owner = owner;
    if (this.seenStamp.length < next.length) this.seenStamp = new Uint32Array(next.length);
    return true;
  }

  /** Index of `replicaId` in {@link ids}, or -1 when it is not on the ring. */
  indexOf(replicaId: string): number {
    return this.index.get(replicaId) ?? -1;
  }

  /**
   * Index of the first point whose hash is strictly greater than (h, l), wrapping to 0 past the
   * last point (Python's `bisect_right`). The ring must not be empty.
   */
  startIndex(h: number, l: number): number {
    let a = 0;
    let b = this.hi.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = this.hi[m]!;
      if (mh < h || (mh === h && this.lo[m]! <= l)) a = m + 1;
      else b = m;
    }
    return a === this.hi.length ? 0 : a;
  }

  /** {@link startIndex} of the hash of `key`. */
  startIndexOfKey(key: string): number {
    hashKey(key);
    return this.startIndex(hashHi, hashLo);
  }

  /**
   * Starts a clockwise walk: returns a fresh epoch for {@link markSeen}. Walks do not nest.
   */
  beginWalk(): number {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      // 2^32 walks later the stamps would alias: clear them once.
      this.seenStamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  /** Marks replica index `r` as seen in the current walk; true if it was not seen before. */
  markSeen(r: number): boolean {
    if (this.seenStamp[r] === this.epoch) return false;
    this.seenStamp[r] = this.epoch;
    return true;
  }

  /**
   * Distinct replica indexes clockwise from point `start`, at most `limit`, in ring order (the plain
   * Ray ranking over every replica on the ring).
   */
  walk(start: number, limit: number): number[] {
    const out: number[] = [];
    const n = this.owner.length;
    if (n === 0) return out;
    this.beginWalk();
    const want = Math.min(limit, this.ids.length);
    for (let s = 0; s < n && out.length < want; s++) {
      const r = this.owner[(start + s) % n]!;
      if (this.markSeen(r)) out.push(r);
    }
    return out;
  }

  /** One replica's points as a sorted run owned by replica index `owner`. */
  private runOf(id: string, owner: number): Points {
    const pts = this.pointsOf(id);
    const v = this.virtualNodes;
    const run: Points = {
      hi: new Uint32Array(v),
      lo: new Uint32Array(v),
      owner: new Int32Array(v).fill(owner),
    };
    for (let p = 0; p < v; p++) {
      run.hi[p] = pts[2 * p]!;
      run.lo[p] = pts[2 * p + 1]!;
    }
    return run;
  }

  private pointsOf(id: string): Uint32Array {
    let pts = this.pointCache.get(id);
    if (pts !== undefined) return pts;
    const v = this.virtualNodes;
    // Point keys share the prefix `${id}:`: encode it once and write only the decimal suffix per
    // point, instead of building and encoding a string per point.
    const prefix = utf8.encode(`${id}:`);
    const key = new Uint8Array(prefix.length + 16);
    key.set(prefix);
    const pairs: [number, number][] = [];
    for (let p = 0; p < v; p++) {
      let len = prefix.length;
      const digits = String(p);
      for (let d = 0; d < digits.length; d++) key[len++] = digits.charCodeAt(d);
      murmur3x64h1(key, len);
      pairs.push([hashHi, hashLo]);
    }
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    pts = new Uint32Array(2 * v);
    pairs.forEach(([h, l], p) => {
      pts[2 * p] = h;
      pts[2 * p + 1] = l;
    });
    this.pointCache.set(id, pts);
    return pts;
  }
}
