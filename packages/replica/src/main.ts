/**
 * Replica process entry (`node dist/main.js`, started by `startReplicaProcess`). Reads the
 * ReplicaSpec from `TSSERVE_REPLICA_SPEC`, serves until SIGTERM/SIGINT or until it fences itself
 * (fence.ts: parent gone, stop order, cut off or unlisted too long), then drains and exits.
 * Exit code 1: malformed spec, NATS unreachable at start, import/constructor failure, or cut off.
 */
import { REPLICA_SPEC_ENV, createLogger, type Logger } from "@tsserve/protocol/internal";
import { FenceWatch, watchParent } from "./fence.js";
import { parseReplicaSpec } from "./replica-spec.js";
import { runReplica, type RunningReplica } from "./replica-runtime.js";

let logger: Logger = createLogger("replica");
const log = (line: string): void => logger.info(line);

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let text = e.stack ?? `${e.name}: ${e.message}`;
  if (e.cause !== undefined) text += `\ncaused by: ${describeError(e.cause)}`;
  return text;
}

// A stray rejected promise in user code must not take down every request this replica serves.
process.on("unhandledRejection", (reason) => log(`unhandled rejection: ${describeError(reason)}`));
// Our stderr is often a pipe to the agent; once the agent is gone a write fails with EPIPE, and an
// unhandled stream error would kill the process before it could drain.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}

async function main(): Promise<void> {
  let spec;
  try {
    spec = parseReplicaSpec(process.env[REPLICA_SPEC_ENV]);
  } catch (e) {
    logger.error(describeError(e));
    process.exit(1);
  }
  // The spec (its address, and nothing secret) has been read; user code need not see it.
  delete process.env[REPLICA_SPEC_ENV];
  logger = createLogger("replica", { app: spec.app, deployment: spec.deployment, replica: spec.replicaId });
  // Handlers go in before startup: a signal that arrives while the module loads (or right after
  // READY went out) must drain, not kill the process with the default action.
  let replica: RunningReplica | undefined;
  let stopRequested = false;
  const graceMs = spec.config.gracefulShutdownTimeoutMs;
  const drain = (r: RunningReplica): void => {
    r.drain().then(
      () => process.exit(0),
      (e: unknown) => {
        log(`drain failed: ${describeError(e)}`);
        process.exit(1);
      },
    );
  };
  const orphaned = (): boolean => spec.parentPid !== undefined && process.ppid !== spec.parentPid;
  const requestStop = (why: string, hard = false): void => {
    // An orphan that has not served yet has nothing to drain, and must not get as far as serving.
    const now = hard || (replica === undefined && orphaned());
    log(`${why}: ${now ? "exiting" : "draining"}`);
    if (now) process.exit(1);
    if (stopRequested) return;
    stopRequested = true;
    // Whatever the drain waits for, a fenced or signalled replica is gone within its grace period.
    setTimeout(() => process.exit(1), graceMs + 2000).unref();
    if (replica !== undefined) drain(replica);
  };
  process.on("SIGTERM", (s) => requestStop(s));
  process.on("SIGINT", (s) => requestStop(s));
  // Before the import and constructor: an agent SIGKILLed right after the spawn leaves an orphan
  // that must not get as far as serving.
  watchParent(spec.parentPid, (why) => requestStop(why));
  try {
    replica = await runReplica(spec, log, () => !orphaned());
  } catch (e) {
    logger.error(describeError(e));
    process.exit(1);
  }
  if (stopRequested) {
    drain(replica);
    return;
  }
  const running = replica;
  new FenceWatch(
    running.connection,
    spec,
    () => running.state() === "RUNNING",
    (f) => requestStop(f.reason, f.hard),
  );
}

await main();
