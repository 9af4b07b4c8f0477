import { quantile } from "../harness/stats.js";
import type { RowStats } from "./llm-row.js";

/**
 * Rounds of the llm-affinity suite. On a shared machine a stall of a few seconds fills the
 * replicas' batches, spills calls to cold replicas and costs the row that runs through it a tenth
 * of its hit rate (one run measured Scoring at 0.80 beside an Oracle row at 0.90, then 0.90 beside
 * 0.90 with the machine quieter). So each workload runs its routers in several rounds, in a
 * rotated order (no router always follows the cold start or always runs last), and a router's
 * reported row holds the median of its rounds.
 */

/** `items` rotated left by `by` (round r starts with the r-th router). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const k = ((by % n) + n) % n;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** One router's rounds summarised: each metric's median, and the spread of the hit rate. */
export interface MedianStats extends RowStats {
  rounds: number;
  hitRateMin: number;
  hitRateMax: number;
}

/** The median of every metric over `samples` (each metric on its own; errors are summed). */
export function medianStats(samples: readonly RowStats[]): MedianStats {
  if (samples.length === 0) throw new RangeError("medianStats: no samples");
  const med = (key: keyof RowStats): number =>
    quantile(
      samples.map((s) => s[key]),
      0.5,
    );
  const hits = samples.map((s) => s.hitRate);
  return {
    calls: med("calls"),
    errors: samples.reduce((a, s) => a + s.errors, 0),
    hitRate: med("hitRate"),
    ttftP50Ms: med("ttftP50Ms"),
    ttftP90Ms: med("ttftP90Ms"),
    latencyP90Ms: med("latencyP90Ms"),
    maxOverMean: med("maxOverMean"),
    charsPerToken: med("charsPerToken"),
    rounds: samples.length,
    hitRateMin: Math.min(...hits),
    hitRateMax: Math.max(...hits),
  };
}
