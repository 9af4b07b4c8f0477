import { LOG_TIME_ENV, NATS_AUTH_ENV } from "@tsserve/protocol/internal";
import { PARENT_PID_ENV, RUN_MARKER_ENV } from "./entry-paths.js";

/**
 * The environment a replica process gets from its agent: scrubbed, not inherited. User code runs
 * in replicas, so it must not read the agent's NATS credentials (an agent may start processes on
 * any machine) nor anything else the agent was started with.
 *
 * - a few neutral variables (PATH, HOME, locale, TZ, TMPDIR, NODE_PATH, TSSERVE_DEBUG) and the
 *   logging settings (level, format, access log), which hold nothing secret;
 * - replica-role NATS credentials: `TSSERVE_REPLICA_NATS_*` of the agent become `TSSERVE_NATS_*` of
 *   the replica. Without any, the agent's own `TSSERVE_NATS_*` are passed on (a cluster with one
 *   NATS user for everything; `tsserve nats-config` writes per-role users);
 * - the TLS CA file (public) in any case;
 * - the parent pid for the parent-watch preload and the test run marker, and `TSSERVE_LOG_TIME=0`
 *   (the agent's log file stamps each line, so the replica's lines do not);
 * - the variables the agent's `TSSERVE_REPLICA_ENV` names (comma-separated): how an operator hands
 *   deployments their own configuration (an API endpoint, a model path) without handing them the
 *   agent's secrets.
 */

/** Names (comma-separated) of the agent's variables that replicas get as they are. */
export const REPLICA_ENV_PASSTHROUGH = "TSSERVE_REPLICA_ENV";

/** Variables copied as they are. */
const NEUTRAL = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "NODE_PATH",
  "TSSERVE_DEBUG",
  "TSSERVE_LOG_LEVEL",
  "TSSERVE_LOG_FORMAT",
  "TSSERVE_ACCESS_LOG",
] as const;

/** Prefix of the agent's variables that carry the replica role's credentials. */
export const REPLICA_NATS_ENV_PREFIX = "TSSERVE_REPLICA_NATS_";

/** `TSSERVE_NATS_USER` → `TSSERVE_REPLICA_NATS_USER`, and so on. */
export function replicaRoleVariable(natsVariable: string): string {
  return natsVariable.replace(/^TSSERVE_NATS_/, REPLICA_NATS_ENV_PREFIX);
}

/** Builds a replica's environment from the agent's `env` (see the module comment). */
export function replicaEnvironment(env: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of NEUTRAL) if (env[name] !== undefined) out[name] = env[name];
  const natsVars = Object.values(NATS_AUTH_ENV);
  const roleSet = natsVars.some((v) => (env[replicaRoleVariable(v)] ?? "") !== "");
  for (const v of natsVars) {
    const value = roleSet ? env[replicaRoleVariable(v)] : env[v];
    if (value !== undefined && value !== "") out[v] = value;
  }
  // The CA only lets the replica verify the server; it is no secret.
  if (out[NATS_AUTH_ENV.tlsCa] === undefined && env[NATS_AUTH_ENV.tlsCa])
    out[NATS_AUTH_ENV.tlsCa] = env[NATS_AUTH_ENV.tlsCa];
  if (env[RUN_MARKER_ENV] !== undefined) out[RUN_MARKER_ENV] = env[RUN_MARKER_ENV];
  for (const name of (env[REPLICA_ENV_PASSTHROUGH] ?? "").split(",")) {
    const n = name.trim();
    // The NATS credentials stay role-scoped whatever the list says.
    if (n === "" || n.startsWith("TSSERVE_NATS_") || n.startsWith(REPLICA_NATS_ENV_PREFIX)) continue;
    if (env[n] !== undefined) out[n] = env[n];
  }
  out[PARENT_PID_ENV] = String(process.pid);
  // The agent stamps every line of a replica's log file: the replica's own lines carry no time.
  out[LOG_TIME_ENV] = "0";
  return { ...out, ...extra };
}
