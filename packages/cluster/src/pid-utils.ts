/** Small helpers to watch and stop processes by pid (which may not be our children). */

/** True while a process with this pid exists (a zombie counts until its parent reaps it). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Polls until `pid` is gone or `timeoutMs` passes; true when it is gone. */
export async function waitForPidExit(pid: number, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}

/**
 * Sends SIGTERM, waits up to `timeoutMs`, then SIGKILL and waits once more. Resolves when the
 * process is gone (or could not be signalled because it already was).
 */
export async function stopPid(pid: number, timeoutMs = 5000): Promise<void> {
  if (!signal(pid, "SIGTERM")) return;
  if (await waitForPidExit(pid, timeoutMs)) return;
  if (!signal(pid, "SIGKILL")) return;
  await waitForPidExit(pid, 2000);
}

/** Sends a signal; false when the process does not exist. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
