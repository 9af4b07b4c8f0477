/**
 * A preload (`node --import <this file>`; see `parentWatchNodeArg` in entry-paths.ts) that ends the process when
 * its parent dies.
 *
 * Linux does not kill children with their parent, and Node cannot set PR_SET_PDEATHSIG, so a
 * SIGKILLed agent (or a crashed test runner) would leave replicas, controllers and agents running
 * forever. When the parent dies the process is re-parented and `process.ppid` changes: this module
 * polls for that, then sends the process SIGTERM so it shuts down the way it normally does (a
 * replica drains, an agent stops its replicas), and exits hard if that takes too long.
 *
 * No imports beyond Node built-ins: it is preloaded into every replica and must stay cheap.
 */

// Same as PARENT_WATCH_GRACE_ENV in entry-paths.ts (not imported: keep this preload free of package imports).
const GRACE_ENV = "TSSERVE_PARENT_WATCH_GRACE_MS";
const INTERVAL_MS = 500;
const DEFAULT_GRACE_MS = 30_000;

const parent = process.ppid;

// Our stderr is often a pipe to the parent (the agent keeps a tail of it). Once the parent is gone,
// a write there fails with EPIPE, and an unhandled stream error would kill the process before it
// could drain. Lost log lines are the lesser harm.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}
// Already orphaned at start (ppid 1): there is no parent worth watching.
if (parent > 1) {
  const grace = Number(process.env[GRACE_ENV] ?? DEFAULT_GRACE_MS);
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`tsserve: parent ${parent} of pid ${process.pid} is gone; shutting down\n`);
    setTimeout(() => process.exit(1), Number.isFinite(grace) ? grace : DEFAULT_GRACE_MS).unref();
    process.kill(process.pid, "SIGTERM");
  }, INTERVAL_MS);
  timer.unref();
}

export {};
