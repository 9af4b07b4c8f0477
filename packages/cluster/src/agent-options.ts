import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { ConfigError, TSSERVE_ENV } from "@tsserve/protocol";
import { DEFAULT_PREFIX } from "@tsserve/protocol/internal";

/** Environment variables an agent process reads when the flag is absent. */
export const AGENT_ENV = {
  address: TSSERVE_ENV.address,
  prefix: TSSERVE_ENV.prefix,
  nodeId: TSSERVE_ENV.nodeId,
  replicaUser: TSSERVE_ENV.replicaUser,
} as const;

/**
 * The default node id: the short host name (made subject-safe) plus a short random suffix, so two
 * agents on one host (tests, benches) never collide.
 */
export function defaultNodeId(host = hostname()): string {
  const base = (host.split(".")[0] ?? "").replace(/[^A-Za-z0-9_-]/g, "-") || "node";
  return `${base}-${randomBytes(3).toString("hex")}`;
}

/** The agent process's resolved command line. */
export interface AgentArgs {
  address: string;
  prefix: string;
  nodeId: string | undefined;
  /** `--replica-user`: run replicas as this OS user. */
  replicaUser: string | undefined;
}

const USAGE =
  "usage: agent-main.js --address nats://host:4222 [--prefix tsserve] [--node-id ID] [--replica-user USER]";

/**
 * Parses `--address URL [--prefix P] [--node-id ID]` (also `--flag=value`), falling back to
 * TSSERVE_ADDRESS / TSSERVE_PREFIX / TSSERVE_NODE_ID.
 */
export function parseAgentArgs(argv: readonly string[], env: NodeJS.ProcessEnv): AgentArgs {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const m = /^--(address|prefix|node-id|replica-user)(?:=(.*))?$/.exec(arg);
    if (!m) throw new ConfigError(`agent: unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === "")
      throw new ConfigError(`agent: --${m[1]} needs a value; ${USAGE}`);
    flags.set(m[1] ?? "", value);
  }
  const address = flags.get("address") ?? env[AGENT_ENV.address];
  if (!address) {
    throw new ConfigError(`agent: no NATS address: pass --address or set ${AGENT_ENV.address}; ${USAGE}`);
  }
  return {
    address,
    prefix: flags.get("prefix") ?? env[AGENT_ENV.prefix] ?? DEFAULT_PREFIX,
    nodeId: flags.get("node-id") ?? (env[AGENT_ENV.nodeId] || undefined),
    replicaUser: flags.get("replica-user") ?? (env[AGENT_ENV.replicaUser] || undefined),
  };
}
