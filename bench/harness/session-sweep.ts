import type { DeploymentHandle } from "@tsserve/handle";
import { runClosedLoop } from "./closed-loop.js";
import type { Noop } from "../fixtures/bench-apps.js";

/** Where each session landed in one sweep: replica id per session (null = the call failed). */
export type Placement = (string | null)[];

/**
 * Calls `whoami` once for every session id (closed loop, `concurrency` in flight) and returns the
 * replica each session landed on, in session order.
 */
export async function sweepSessions(
  handle: DeploymentHandle<Noop>,
  sessions: readonly string[],
  concurrency: number,
): Promise<{ placement: Placement; errors: number }> {
  const placement: Placement = new Array<string | null>(sessions.length).fill(null);
  const r = await runClosedLoop(
    async (_w, seq) => {
      placement[seq] = await handle.options({ sessionId: sessions[seq]!, timeoutMs: 10_000 }).whoami.remote();
    },
    { concurrency, maxCalls: sessions.length },
  );
  return { placement, errors: Object.values(r.errors).reduce((a, b) => a + b, 0) };
}

/** Share of sessions placed on the same replica in `a` and `b` (failed calls count as different). */
export function sameShare(a: Placement, b: Placement): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== null && a[i] === b[i]) same++;
  return a.length ? same / a.length : Number.NaN;
}
