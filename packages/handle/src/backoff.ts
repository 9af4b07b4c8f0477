import {
  BACKOFF_MULTIPLIER,
  INITIAL_BACKOFF_MS,
  MAX_BACKOFF_MS,
  MAX_PROBE_DEADLINE_MS,
  PROBE_DEADLINE_MS,
} from "./options.js";

/**
 * Sleep before pass `attempt` (0-based count of sleeps so far) after every candidate group failed:
 * 25, 50, 100, 200, 400, 500, 500 … ms. Huge attempts stay at the cap (no overflow to Infinity or
 * NaN: the exponent is clamped before it is used).
 */
export function backoffDelayMs(
  attempt: number,
  initialMs = INITIAL_BACKOFF_MS,
  multiplier = BACKOFF_MULTIPLIER,
  maxMs = MAX_BACKOFF_MS,
): number {
  return cappedExponential(initialMs, multiplier, attempt, maxMs);
}

/**
 * Probe deadline for backoff round `backoffIndex`: 100 ms doubling up to 1 s. If the cap is below
 * the initial deadline the initial one wins (Ray: `max(initial, max)`), and a huge index cannot
 * overflow (Ray issue #43964).
 */
export function probeDeadlineMs(
  backoffIndex: number,
  initialMs = PROBE_DEADLINE_MS,
  maxMs = MAX_PROBE_DEADLINE_MS,
): number {
  return cappedExponential(initialMs, 2, backoffIndex, Math.max(initialMs, maxMs));
}

function cappedExponential(initial: number, multiplier: number, exponent: number, cap: number): number {
  if (!(exponent > 0) || initial <= 0) return Math.min(initial, cap);
  if (multiplier <= 1) return Math.min(initial, cap);
  // Past this exponent the product is above the cap anyway; stopping early keeps the arithmetic
  // finite for indices like 2048 or Number.MAX_SAFE_INTEGER.
  const limit = Math.ceil(Math.log(cap / initial) / Math.log(multiplier));
  if (exponent >= limit) return cap;
  return Math.min(initial * multiplier ** exponent, cap);
}
