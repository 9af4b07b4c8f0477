/**
 * The controller process: `node dist/controller-main.js --address URL [--prefix P] [--controller-id ID]`
 * (or TSSERVE_ADDRESS / TSSERVE_PREFIX). It competes for the leader lease and, once leading,
 * reconciles the cluster until `ctl.shutdown` (exit 0) or SIGTERM/SIGINT (stop, leaving replicas
 * running for a successor to adopt).
 */
import { createLogger } from "@tsserve/protocol/internal";
import { Controller, parseControllerArgs } from "./controller/index.js";

const logger = createLogger("controller");

async function main(): Promise<void> {
  let args;
  try {
    args = parseControllerArgs(process.argv.slice(2));
  } catch (e) {
    logger.fatal((e as Error).message);
    process.exit(2);
  }
  const controller = new Controller(args, () => process.exit(0));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping (replicas keep running)`);
    controller.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await controller.start();
  logger.info(`${controller.id} started on ${args.address} (prefix ${args.prefix})`);
  // The lease and reconcile timers are unref'd; this keeps the process alive until told to stop.
  setInterval(() => {}, 1 << 30);
}

main().catch((e: unknown) => {
  logger.fatal(`fatal: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
