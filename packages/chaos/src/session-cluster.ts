import { readdirSync } from "node:fs";
import { join } from "node:path";
import { resolveDeploymentOptions, type ApplicationSpec } from "@tsserve/protocol/internal";
import type { DeploymentOptions } from "@tsserve/protocol";
import { CHAOS_OPTIONS, FIXTURES } from "./chaos-cluster.js";
import { readJsonl } from "./session-drivers.js";
import type { CallRecord } from "./session-history.js";

/** Name of the session-history fixture deployment (`test/fixtures/session-app.ts`). */
export const SESSION_TARGET = "SessionTarget";

/** The environment variable that tells the fixture's replicas where to record their calls. */
export const SESSION_HISTORY_DIR_ENV = "SESSION_HISTORY_DIR";

/**
 * Environment for a chaos cluster whose replicas record their calls in `dir`: agents pass the
 * variable on to their replicas (`TSSERVE_REPLICA_ENV`).
 */
export function sessionHistoryEnv(dir: string): NodeJS.ProcessEnv {
  return { [SESSION_HISTORY_DIR_ENV]: dir, TSSERVE_REPLICA_ENV: SESSION_HISTORY_DIR_ENV };
}

/** The SessionTarget fixture as application `name`, with the chaos options plus `options`. */
export function sessionApplication(
  name: string,
  options: DeploymentOptions,
  codeVersion = "v1",
): ApplicationSpec {
  return {
    name,
    routePrefix: null,
    importPath: "session-app.ts#app",
    cwd: FIXTURES,
    ingress: SESSION_TARGET,
    deployments: [
      {
        config: resolveDeploymentOptions(
          { ...CHAOS_OPTIONS, ...options, name: SESSION_TARGET },
          SESSION_TARGET,
        ),
        codeVersion,
      },
    ],
  };
}

/** Every call the replicas recorded in `dir` (one `<replica>.jsonl` per replica). */
export function readReplicaRecords(dir: string): CallRecord[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) => readJsonl<CallRecord>(join(dir, f)));
}
