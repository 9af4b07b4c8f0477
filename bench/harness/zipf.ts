/**
 * Zipf-distributed picks over `n` items: item k (0-based) has weight 1/(k+1)^s, so a few sessions
 * are very popular and a long tail is rare, as with real users. Sampling is a binary search over
 * the cumulative weights.
 */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s = 1,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf n must be an integer >= 1, got ${n}`);
    if (!(s >= 0)) throw new RangeError(`Zipf exponent must be >= 0, got ${s}`);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / (k + 1) ** s;
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  /** One item index in [0, n). */
  next(): number {
    const u = this.random();
    let a = 0;
    let b = this.n - 1;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.cdf[m]! < u) a = m + 1;
      else b = m;
    }
    return a;
  }
}
