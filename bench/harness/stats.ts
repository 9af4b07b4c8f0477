/** Small statistics helpers shared by the suites. Latencies are in microseconds. */

/**
 * The q-quantile (0..1) of `values` by the nearest-rank method on a sorted copy; NaN when empty.
 * Nearest-rank, not interpolation, so p99 is a latency some request really saw.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return quantileSorted(sorted, q);
}

/** {@link quantile} of values already sorted ascending. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50 / p90 / p99 / max of a latency sample. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles of `values` (sorted once). */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Arithmetic mean; NaN when empty. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Population coefficient of variation (stddev / mean); NaN when empty or the mean is 0. */
export function coefficientOfVariation(values: readonly number[]): number {
  const m = mean(values);
  if (!(m !== 0)) return Number.NaN;
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / values.length) / m;
}

/** max / mean: how much the busiest member carries over a fair share. NaN when empty. */
export function maxOverMean(values: readonly number[]): number {
  const m = mean(values);
  return values.length === 0 || m === 0 ? Number.NaN : Math.max(...values) / m;
}

/** `a / b`, NaN when `b` is 0 or either is not finite, so ratios never print as Infinity. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN;
}

/** Rounds to `digits` decimals (for JSON that people read). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
