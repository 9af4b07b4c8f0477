import type { Heartbeats } from "./heartbeat.js";

/** The optional user method Ray Serve calls `check_health`: throw (or hang) to be replaced. */
export const HEALTH_CHECK_METHOD = "checkHealth";

/** Options of {@link startHealthChecks}. */
export interface HealthCheckOptions {
  /** Time between the end of one check and the start of the next. */
  periodMs: number;
  /** A check that has not settled after this long failed. */
  timeoutMs: number;
}

/**
 * Calls the instance's `checkHealth()` every `periodMs` while the replica is RUNNING. The first
 * failure (a throw, a rejection, or no answer within `timeoutMs`) is reported on the heartbeat and
 * checks stop: the controller replaces this replica (Ray's semantics; no in-place restart).
 * Returns a stop function; a class without `checkHealth` gets no timer at all.
 */
export function startHealthChecks(
  instance: object,
  hb: Heartbeats,
  options: HealthCheckOptions,
  log: (line: string) => void,
): () => void {
  const fn = (instance as Record<string, unknown>)[HEALTH_CHECK_METHOD];
  if (typeof fn !== "function") return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fail = (why: string): void => {
    if (stopped) return;
    stopped = true;
    log(`health check failed: ${why}`);
    hb.reportHealthError(why);
  };
  const once = async (): Promise<void> => {
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<"timeout">((r) => {
      deadline = setTimeout(() => r("timeout"), options.timeoutMs);
    });
    try {
      const call = Promise.resolve().then(() => (fn as () => unknown).call(instance));
      const outcome = await Promise.race([call, expired]);
      if (outcome === "timeout") fail(`checkHealth() did not answer within ${options.timeoutMs} ms`);
    } catch (e) {
      fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    } finally {
      clearTimeout(deadline);
    }
    if (!stopped) schedule();
  };
  const schedule = (): void => {
    timer = setTimeout(() => void once(), options.periodMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
