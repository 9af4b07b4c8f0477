import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  /** Arrivals per second, independent of how fast the system answers. */
  ratePerSec: number;
  /** How long arrivals continue, ms. */
  durationMs: number;
  /** After the last arrival, wait at most this long for outstanding calls before counting them lost. */
  drainTimeoutMs: number;
  /** Names an error for the tally. @default the error's `name` */
  classify?: (error: unknown) => string;
}

/** Every request of an open-loop run, accounted for. */
export interface OpenLoopResult {
  /** Calls started. */
  offered: number;
  /** Calls that resolved. */
  ok: number;
  /** Calls resolved before the arrival window closed (goodput counts these). */
  okInWindow: number;
  /** Calls that threw, by class. */
  errors: Record<string, number>;
  /** Calls still unanswered after the drain timeout: lost requests. */
  outstanding: number;
  /** Arrival window, ms (as run, not as asked). */
  windowMs: number;
  /** Latency of every resolved call, µs. */
  latenciesUs: Float64Array;
}

/**
 * An open-loop load generator: calls arrive at a fixed rate whether or not earlier ones finished,
 * which is how overload really arrives (a closed loop slows down with the system and hides it).
 * Arrivals are issued in 5 ms batches so timer granularity does not cap the rate.
 */
export async function runOpenLoop(
  call: (seq: number) => PromiseLike<unknown>,
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  const { ratePerSec, durationMs, drainTimeoutMs } = options;
  if (!(ratePerSec > 0) || !(durationMs > 0)) {
    throw new RangeError(`ratePerSec and durationMs must be > 0, got ${ratePerSec} and ${durationMs}`);
  }
  const classify = options.classify ?? ((e: unknown) => (e instanceof Error ? e.name : typeof e));
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let offered = 0;
  let ok = 0;
  let okInWindow = 0;
  let windowOpen = true;
  const pending = new Set<Promise<void>>();
  const start = performance.now();

  const issue = (): void => {
    const seq = offered++;
    const t0 = performance.now();
    const p = Promise.resolve(call(seq)).then(
      () => {
        latencies.push((performance.now() - t0) * 1000);
        ok++;
        if (windowOpen) okInWindow++;
      },
      (e: unknown) => {
        const k = classify(e);
        errors[k] = (errors[k] ?? 0) + 1;
      },
    );
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  for (;;) {
    const now = performance.now();
    if (now - start >= durationMs) break;
    const due = Math.floor(((now - start) / 1000) * ratePerSec);
    while (offered < due) issue();
    await delay(5);
  }
  windowOpen = false;
  const windowMs = performance.now() - start;
  const drained = Promise.all([...pending]).then(() => true);
  const timedOut = delay(drainTimeoutMs, false, { ref: false });
  await Promise.race([drained, timedOut]);
  return {
    offered,
    ok,
    okInWindow,
    errors,
    outstanding: pending.size,
    windowMs,
    latenciesUs: Float64Array.from(latencies),
  };
}
