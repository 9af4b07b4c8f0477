import { NATS_AUTH_ENV } from "./nats-auth.js";

/**
 * Every environment variable tsserve reads, in one table (the CLI flag that sets it, if any, is
 * named beside it). Components read them through these names, never through string literals.
 */
export const TSSERVE_ENV = {
  /** NATS server URL(s), comma-separated (`--address`). */
  address: "TSSERVE_ADDRESS",
  /** Subject prefix (`--prefix`). */
  prefix: "TSSERVE_PREFIX",
  /** An agent's node id (`--node-id`). */
  nodeId: "TSSERVE_NODE_ID",
  /** The OS user an agent runs replicas as (`--replica-user`). */
  replicaUser: "TSSERVE_REPLICA_USER",
  /** HTTP port of the proxy (`--http-port`). */
  httpPort: "TSSERVE_HTTP_PORT",
  /** Port of the embedded nats-server (`--nats-port`). */
  natsPort: "TSSERVE_NATS_PORT",
  /** `1`: stack traces in errors and on the wire. */
  debug: "TSSERVE_DEBUG",
  /** A replica's spec (JSON), set by its agent; removed from the replica's env once read. */
  replicaSpec: "TSSERVE_REPLICA_SPEC",
  /** The pid a process must have as its parent, set by whoever spawns it (parent-watch preload). */
  parentPid: "TSSERVE_PARENT_PID",
  /** ms between the parent-watch's SIGTERM and a hard exit. */
  parentWatchGraceMs: "TSSERVE_PARENT_WATCH_GRACE_MS",
  /** An opaque marker copied to every child process, so a test run can find what it leaked. */
  runMarker: "TSSERVE_RUN_MARKER",
  /** Prefix of an agent's variables holding the replica role's credentials (`TSSERVE_REPLICA_NATS_USER` …). */
  replicaNatsPrefix: "TSSERVE_REPLICA_NATS_",
  ...{ nats: NATS_AUTH_ENV },
} as const;
