/**
 * Replica process entry (`node dist/main.js`, started by `startReplicaProcess`). Reads the
 * ReplicaSpec from `TSSERVE_REPLICA_SPEC`, serves until SIGTERM/SIGINT, then drains and exits 0.
 * Exit code 1: malformed spec, NATS unreachable at start, or import/constructor failure.
 */
import { REPLICA_SPEC_ENV, createLogger, type Logger } from "@tsserve/protocol";
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

async function main(): Promise<void> {
  let spec;
  try {
    spec = parseReplicaSpec(process.env[REPLICA_SPEC_ENV]);
  } catch (e) {
    logger.error(describeError(e));
    process.exit(1);
  }
  logger = createLogger("replica", { app: spec.app, deployment: spec.deployment, replica: spec.replicaId });
  // Handlers go in before startup: a signal that arrives while the module loads (or right after
  // READY went out) must drain, not kill the process with the default action.
  let replica: RunningReplica | undefined;
  let stopRequested = false;
  const drain = (r: RunningReplica): void => {
    r.drain().then(
      () => process.exit(0),
      (e: unknown) => {
        log(`drain failed: ${describeError(e)}`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: draining`);
    stopRequested = true;
    if (replica !== undefined) drain(replica);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    replica = await runReplica(spec, log);
  } catch (e) {
    logger.error(describeError(e));
    process.exit(1);
  }
  if (stopRequested) drain(replica);
}

await main();
