/**
 * Polls `check` until it returns a truthy value (which is returned) or `timeoutMs` passes. A
 * `message` function is called only on timeout (for diagnostics that are costly to gather, such
 * as log tails).
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 25, message = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const what = typeof message === "function" ? message() : message;
      throw new Error(`waitUntil: ${what} not met within ${timeoutMs} ms`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
