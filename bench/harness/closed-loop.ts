import { performance } from "node:perf_hooks";

/** Options of {@link runClosedLoop}. Give `durationMs`, `maxCalls`, or both (whichever ends first). */
export interface ClosedLoopOptions {
  /** Workers, each with one call in flight at a time. */
  concurrency: number;
  /** Stop starting calls after this long. */
  durationMs?: number;
  /** Stop after this many calls in total. */
  maxCalls?: number;
  /** Names an error for the tally. @default the error's `name` */
  classify?: (error: unknown) => string;
}

/** What a closed-loop run measured. */
export interface ClosedLoopResult {
  /** Calls that resolved. */
  ok: number;
  /** Calls that threw, by {@link ClosedLoopOptions.classify}. */
  errors: Record<string, number>;
  /** Wall time from the first call to the last completion, ms. */
  elapsedMs: number;
  /** Latency of every resolved call, µs, in completion order. */
  latenciesUs: Float64Array;
  /** Resolved calls per second. */
  throughput: number;
}

const defaultClassify = (e: unknown): string => (e instanceof Error ? e.name : typeof e);

/**
 * A bounded closed-loop load generator: `concurrency` workers each call `call(worker, seq)` and wait
 * for it before the next, so the offered load adapts to the system (the standard way to measure
 * throughput at a fixed concurrency). Bounded by `durationMs` and/or `maxCalls`; at least one is
 * required so a bench can never run forever.
 */
export async function runClosedLoop(
  call: (worker: number, seq: number) => PromiseLike<unknown>,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const { concurrency, durationMs, maxCalls } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  if (durationMs === undefined && maxCalls === undefined) {
    throw new RangeError(
      "runClosedLoop needs durationMs or maxCalls (an unbounded load loop is not allowed)",
    );
  }
  const classify = options.classify ?? defaultClassify;
  const callLimit = maxCalls ?? Number.POSITIVE_INFINITY;
  let latencies = new Float64Array(1 << 14);
  let ok = 0;
  let started = 0;
  const errors: Record<string, number> = {};
  const start = performance.now();
  const deadline = durationMs === undefined ? Number.POSITIVE_INFINITY : start + durationMs;

  const worker = async (w: number): Promise<void> => {
    while (started < callLimit) {
      const t0 = performance.now();
      if (t0 >= deadline) return;
      const seq = started++;
      try {
        await call(w, seq);
        const us = (performance.now() - t0) * 1000;
        if (ok === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[ok++] = us;
      } catch (e) {
        const k = classify(e);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - start;
  return { ok, errors, elapsedMs, latenciesUs: latencies.slice(0, ok), throughput: (ok * 1000) / elapsedMs };
}
