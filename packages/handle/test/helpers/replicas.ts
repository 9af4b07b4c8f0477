/**
 * The handle tests' replica defaults (app "app", deployment "Echo", prefix "tsserve", the
 * fixtures folder) over @tsserve/test-utils' startReplicas, the one way tests spawn replicas.
 * Replicas run the replica package's built `dist/main.js`, so build before running tests.
 */
import { fileURLToPath } from "node:url";
import type { DeploymentOptions } from "@tsserve/protocol";
import type { ReplicaSpec } from "@tsserve/protocol/internal";
import { startReplicas as startGroup, type ReplicaGroup } from "@tsserve/test-utils";

export type { ReplicaGroup };

/** Directory of the fixtures (replicas resolve `importPath` from here). */
export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** Options of {@link startReplicas}. */
export interface StartReplicasOptions {
  url: string;
  app?: string;
  deployment?: string;
  ids: string[];
  /** Deployment options (maxOngoingRequests…). */
  options?: DeploymentOptions;
  /** `file#export` under `cwd`. @default "echo-app.ts#app" */
  importPath?: string;
  /** Folder `importPath` resolves from. @default the handle tests' fixtures */
  cwd?: string;
  prefix?: string;
  /** Stream flow-control overrides for the replicas (ReplicaSpec.streamFlow). */
  streamFlow?: ReplicaSpec["streamFlow"];
}

/** Starts one process per id and waits until each reports RUNNING. */
export function startReplicas(o: StartReplicasOptions): Promise<ReplicaGroup> {
  return startGroup({
    ...o,
    cwd: o.cwd ?? FIXTURES,
    importPath: o.importPath ?? "echo-app.ts#app",
    options: { gracefulShutdownWaitLoopS: 0.05, ...o.options },
    codeVersion: "test",
  });
}
