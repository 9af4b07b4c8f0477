/**
 * Process entry of a tsserve agent:
 * `node dist/agent-main.js --address URL [--prefix P] [--node-id ID]`
 * (or TSSERVE_ADDRESS / TSSERVE_PREFIX / TSSERVE_NODE_ID). Runs until `agent.<node>.shutdown`,
 * SIGTERM or SIGINT, each of which drains its replicas first.
 */
import { createLogger } from "@tsserve/protocol/internal";
import { Agent } from "./agent.js";
import { parseAgentArgs } from "./agent-options.js";

const logger = createLogger("agent");

async function main(): Promise<void> {
  const args = parseAgentArgs(process.argv.slice(2), process.env);
  const agent = await Agent.start({
    address: args.address,
    prefix: args.prefix,
    nodeId: args.nodeId,
    ...(args.replicaUser === undefined ? {} : { replicaUser: args.replicaUser }),
  });
  logger.info(`tsserve agent ${agent.nodeId} (pid ${process.pid}) connected to ${args.address}`);

  const stop = (why: string): void => {
    logger.info(`tsserve agent ${agent.nodeId}: ${why}; draining replicas`);
    void agent.shutdown();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  await agent.closed;
  process.exit(0);
}

main().catch((e: unknown) => {
  logger.fatal(`tsserve agent: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
