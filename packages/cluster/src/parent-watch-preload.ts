/**
 * A preload (`node --import <this file>`; see `parentWatchNodeArg` in entry-paths.ts) that ends the
 * process when its parent dies.
 *
 * Linux does not kill children with their parent, and Node cannot set PR_SET_PDEATHSIG, so a
 * SIGKILLed agent (or a crashed test runner) would leave replicas, controllers and agents running
 * forever. When the parent dies the process is re-parented and `process.ppid` changes: this module
 * polls for that, then sends the process SIGTERM so it shuts down the way it normally does (a
 * replica drains, an agent stops its replicas), and exits hard if that takes too long.
 *
 * The expected parent pid comes from `TSSERVE_PARENT_PID`, set by the spawner: reading `ppid` here
 * would be too late when the parent died between the spawn and this preload (the process would
 * start as an orphan and watch init). The variable is removed once read, so the process's own
 * children (which inherit NODE_OPTIONS and this preload) watch *their* parent. Without it, the ppid
 * at load is watched, unless it is already 1.
 *
 * No imports beyond Node built-ins: it is preloaded into every replica and must stay cheap.
 */

// Same as TSSERVE_ENV in @tsserve/protocol (not imported: keep this preload free of package imports).
const GRACE_ENV = "TSSERVE_PARENT_WATCH_GRACE_MS";
const PARENT_ENV = "TSSERVE_PARENT_PID";
const INTERVAL_MS = 250;
const DEFAULT_GRACE_MS = 30_000;

const explicit = Number(process.env[PARENT_ENV]);
delete process.env[PARENT_ENV];
const parent = Number.isInteger(explicit) && explicit > 0 ? explicit : process.ppid > 1 ? process.ppid : 0;

// Our stderr is often a pipe to the parent (the agent keeps a tail of it). Once the parent is gone,
// a write there fails with EPIPE, and an unhandled stream error would kill the process before it
// could drain. Lost log lines are the lesser harm.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}

function parentGone(): void {
  const grace = Number(process.env[GRACE_ENV] ?? DEFAULT_GRACE_MS);
  process.stderr.write(`tsserve: parent ${parent} of pid ${process.pid} is gone; shutting down\n`);
  setTimeout(() => process.exit(1), Number.isFinite(grace) ? grace : DEFAULT_GRACE_MS).unref();
  process.kill(process.pid, "SIGTERM");
}

if (parent > 0) {
  if (process.ppid !== parent) {
    // Orphaned before this preload ran. Let the entry install its SIGTERM handler first.
    setImmediate(parentGone);
  } else {
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      parentGone();
    }, INTERVAL_MS);
    timer.unref();
  }
}

export {};
