import { performance } from "node:perf_hooks";
import type { DeploymentHandle } from "@tsserve/handle";
import { sleep } from "@tsserve/test-utils";
import type { MapCounter } from "../fixtures/session-apps.js";
import { percentiles, type Percentiles } from "./stats.js";

/** What spilling cost the quiet sessions of a full owner (see {@link measureSpill}). */
export interface SpillMeasurement {
  /** Latency of the quiet sessions' calls sent while their owner was full, ms. */
  spilledMs: Percentiles;
  /** Latency of each such session's next call, once the owner was free again, ms. */
  nextMs: Percentiles;
  /** Share of the spilled calls that ran on another replica than the session's owner. */
  ranElsewhere: number;
  /** Calls whose counter did not continue from the session's previous call (lost or stale state). */
  counterBreaks: number;
  calls: number;
}

/**
 * Spilling, one way or the other (`sessionState.spill`): on a 2-replica deployment at the
 * defaults, `rounds` times: `maxOngoingRequests` calls of busy sessions that hold their owner's
 * slots for `holdMs`, then, 50 ms later, one call each of `perRound` quiet sessions of that owner
 * (fresh ones every round). With "wait" those wait for the owner; with "move" the fallback takes
 * their sessions over. Then each quiet session's next call.
 */
export async function measureSpill(
  handle: DeploymentHandle<MapCounter>,
  opts: { rounds: number; perRound: number; holdMs: number; slots: number },
): Promise<SpillMeasurement> {
  const counters = new Map<string, number>();
  let counterBreaks = 0;
  let calls = 0;
  const call = async (session: string, holdMs: number): Promise<{ replica: string; ms: number }> => {
    const t = performance.now();
    const h = handle.options({ sessionId: session, timeoutMs: 15_000 });
    const r = holdMs > 0 ? await h.bumpAfter.remote(holdMs) : await h.bump.remote();
    calls++;
    if (r.n !== (counters.get(session) ?? 0) + 1) counterBreaks++;
    counters.set(session, r.n);
    return { replica: r.replica, ms: performance.now() - t };
  };
  // Sessions of one replica (the first session's), found by their first calls (nothing is full yet).
  const need = opts.slots + opts.rounds * opts.perRound;
  let owner: string | undefined;
  const mine: string[] = [];
  for (let i = 0; i < need * 4 && mine.length < need; i++) {
    const replica = (await call(`sp-${i}`, 0)).replica;
    owner ??= replica;
    if (replica === owner) mine.push(`sp-${i}`);
  }
  if (mine.length < need) throw new Error(`only ${mine.length} of ${need} sessions on one replica`);
  const busy = mine.slice(0, opts.slots);
  const spilled: number[] = [];
  const next: number[] = [];
  let elsewhere = 0;
  for (let round = 0; round < opts.rounds; round++) {
    const quiet = mine.slice(opts.slots + round * opts.perRound, opts.slots + (round + 1) * opts.perRound);
    const held = busy.map((s) => call(s, opts.holdMs));
    await sleep(50);
    const got = await Promise.all(quiet.map((s) => call(s, 0)));
    await Promise.all(held);
    for (const g of got) {
      spilled.push(g.ms);
      if (g.replica !== owner) elsewhere++;
    }
    for (const s of quiet) next.push((await call(s, 0)).ms);
  }
  return {
    spilledMs: percentiles(spilled),
    nextMs: percentiles(next),
    ranElsewhere: elsewhere / spilled.length,
    counterBreaks,
    calls,
  };
}
