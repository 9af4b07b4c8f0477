import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tsserve/protocol";
import { REPLICA_SPEC_ENV, type ReplicaSpec } from "@tsserve/protocol/internal";
import { parseReplicaSpec } from "./replica-spec.js";

/** Options of {@link startReplicaProcess}. */
export interface StartReplicaOptions {
  /** Child stdio. @default ["ignore", "inherit", "inherit"] */
  stdio?: StdioOptions;
  /** Extra environment variables (merged over `process.env`, or the whole environment with `inheritEnv: false`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Start from this process's environment. An agent passes false with a scrubbed `env`, so that
   * user code never sees the agent's credentials. @default true
   */
  inheritEnv?: boolean;
  /** Run as this user id (the spawner must be root); with `gid`. @default this process's */
  uid?: number;
  /** Run with this group id. @default this process's */
  gid?: number;
}

// dist/start-replica-process.js sits beside dist/main.js; from src (tests run by a TS loader) the
// built entry is ../dist/main.js: replicas always run built JavaScript.
function mainPath(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith(".ts") ? "../dist/main.js" : "./main.js", here));
}

/** Absolute path of the replica process entry (`dist/main.js`). */
export const REPLICA_MAIN = mainPath();

/**
 * Starts one replica process: `node <dist/main.js>` with `spec` as JSON in
 * `TSSERVE_REPLICA_SPEC`, working directory `spec.cwd`. The spec is checked first (ConfigError on
 * a bad one or a missing cwd). Stop it with SIGTERM to drain; it exits 0 when drained, 1 when it failed to start.
 */
export function startReplicaProcess(spec: ReplicaSpec, opts: StartReplicaOptions = {}): ChildProcess {
  const json = JSON.stringify(spec);
  parseReplicaSpec(json);
  // spawn() reports a missing cwd as an async 'error' event that callers easily miss: fail here.
  if (!existsSync(spec.cwd)) {
    throw new ConfigError(`replica spec cwd ${JSON.stringify(spec.cwd)} does not exist on this machine`);
  }
  return spawn(process.execPath, [REPLICA_MAIN], {
    cwd: spec.cwd,
    stdio: opts.stdio ?? ["ignore", "inherit", "inherit"],
    env: { ...(opts.inheritEnv === false ? {} : process.env), ...opts.env, [REPLICA_SPEC_ENV]: json },
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.gid === undefined ? {} : { gid: opts.gid }),
  });
}
