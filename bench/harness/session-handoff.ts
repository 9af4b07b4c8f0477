import { performance } from "node:perf_hooks";
import type { DeploymentHandle } from "@tsserve/handle";
import { isTsserveError } from "@tsserve/protocol";
import { sleep } from "@tsserve/test-utils";
import type { MapCounter } from "../fixtures/session-apps.js";

/** One call of the hand-off load. */
interface Sample {
  session: number;
  /** performance.now() when it was sent. */
  at: number;
  latencyMs: number;
  replica: string;
  n: number;
}

/** What one planned change cost the sessions it moved. */
export interface HandoffMeasurement {
  /** Sessions whose calls ran on another replica after the change. */
  moved: number;
  /** Per moved session: the latency of its first call on the new owner (it waits for the hand-off), ms. */
  pausesMs: number[];
  /** Calls whose counter did not continue from the previous call's (state lost or stale). */
  counterBreaks: number;
  errors: Record<string, number>;
  calls: number;
  /** Median latency of calls before the change, ms (what a call costs with no move). */
  baselineP50Ms: number;
}

/**
 * Steady load on `sessions` sessions (one sequential loop each, `pauseMs` between calls) while
 * `change` runs; then `settleMs` more. Each session's first call on a new replica measures its
 * hand-off pause as the caller sees it; the counters must continue (bump returns n + 1).
 */
export async function measureHandoff(
  handle: DeploymentHandle<MapCounter>,
  opts: { sessions: number; pauseMs: number; warmMs: number; settleMs: number },
  change: () => Promise<void>,
): Promise<HandoffMeasurement> {
  const samples: Sample[] = [];
  const errors: Record<string, number> = {};
  let running = true;
  const loop = async (s: number): Promise<void> => {
    await sleep(Math.random() * opts.pauseMs);
    for (let i = 0; running && i < 100_000; i++) {
      const at = performance.now();
      try {
        const r = await handle.options({ sessionId: `move-${s}`, timeoutMs: 15_000 }).bump.remote();
        samples.push({ session: s, at, latencyMs: performance.now() - at, replica: r.replica, n: r.n });
      } catch (e) {
        const code = isTsserveError(e) ? e.code : "UNTYPED";
        errors[code] = (errors[code] ?? 0) + 1;
      }
      await sleep(opts.pauseMs);
    }
  };
  const loops = Array.from({ length: opts.sessions }, (_, s) => loop(s));
  await sleep(opts.warmMs);
  const changeAt = performance.now();
  try {
    await change();
    await sleep(opts.settleMs);
  } finally {
    running = false;
    await Promise.all(loops);
  }
  const bySession = new Map<number, Sample[]>();
  for (const x of samples) {
    const list = bySession.get(x.session) ?? [];
    list.push(x);
    bySession.set(x.session, list);
  }
  const pausesMs: number[] = [];
  let counterBreaks = 0;
  for (const list of bySession.values()) {
    list.sort((a, b) => a.at - b.at);
    let moved = false;
    for (let i = 1; i < list.length; i++) {
      const [prev, cur] = [list[i - 1]!, list[i]!];
      if (cur.n !== prev.n + 1) counterBreaks++;
      if (!moved && cur.at >= changeAt - 50 && cur.replica !== prev.replica) {
        moved = true;
        pausesMs.push(cur.latencyMs);
      }
    }
  }
  const before = samples.filter((x) => x.at + x.latencyMs < changeAt).map((x) => x.latencyMs);
  before.sort((a, b) => a - b);
  return {
    moved: pausesMs.length,
    pausesMs,
    counterBreaks,
    errors,
    calls: samples.length,
    baselineP50Ms: before.length ? before[Math.floor(before.length / 2)]! : Number.NaN,
  };
}
