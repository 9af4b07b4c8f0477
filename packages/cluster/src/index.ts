export { Agent, DEFAULT_AGENT_HEARTBEAT_PERIOD_MS, type AgentOptions } from "./agent.js";
export { AGENT_ENV, defaultNodeId, parseAgentArgs, type AgentArgs } from "./agent-options.js";
export { replicaEnvironment, replicaRoleVariable, REPLICA_NATS_ENV_PREFIX } from "./replica-env.js";
export {
  DEFAULT_NATS_PORT,
  DEFAULT_STATE_DIR,
  findNatsServer,
  startEmbeddedNats,
  type EmbeddedNats,
  type EmbeddedNatsOptions,
} from "./embedded-nats.js";
export { pidAlive, stopPid, waitForPidExit } from "./pid-utils.js";
export {
  PARENT_PID_ENV,
  PARENT_WATCH_GRACE_ENV,
  RUN_MARKER_ENV,
  agentEntryPath,
  controllerEntry,
  nodeOptionsWithParentWatch,
  parentWatchNodeArg,
  parentWatchPath,
} from "./entry-paths.js";
export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./local-cluster.js";
export {
  ManagedProcess,
  spawnNodeProcess,
  type LogMode,
  type ManagedProcessOptions,
} from "./managed-process.js";
export { lookupOsUser, type OsUser } from "./os-user.js";
export {
  natsAuthorizationConfig,
  natsRoles,
  roleEnvironment,
  writeNatsRoles,
  type NatsRole,
  type NatsRoleFiles,
  type NatsRoleUser,
  type NatsRolesOptions,
} from "./nats-roles.js";
