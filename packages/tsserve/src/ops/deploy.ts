import type { ControllerClient } from "@tsserve/controller";
import type { ApplicationSpec } from "@tsserve/protocol/internal";
import type { StatusReport } from "@tsserve/protocol";
import { connectController, type Target } from "../head/target.js";
import { readHeadRecord } from "../head/state-dir.js";
import { checkGrpcServed } from "./grpc-check.js";
import { servesAll, waitForProxyRoutes } from "./proxy-routes.js";
import { deployWithRetry, waitDeployed } from "./wait-deployed.js";

/** How long a deploy request is retried while no controller answers. */
const FAILOVER_MS = 15_000;

/** Options of {@link deployConfig}. */
export interface DeployOptions {
  /** Wait until every deployed deployment is HEALTHY. @default true */
  wait?: boolean;
  /** How long to wait for HEALTHY, in ms. @default 60000 */
  timeoutMs?: number;
  /** Roll every replica over even when the code version did not change. @default false */
  force?: boolean;
  /** Called with a progress line (and the report) whenever the progress changes while waiting. */
  onProgress?: (line: string, report: StatusReport) => void;
}

/** What a deploy did. */
export interface DeployResult {
  applications: ApplicationSpec[];
  /** The last status seen (after waiting, when waiting). */
  status: StatusReport | undefined;
}

/**
 * Builds the specs of a serve config (importing the user code to walk its graphs), sends them to
 * the controller, and by default waits until every deployment is HEALTHY (and the local head's
 * proxy, if any, serves the routes). The config is validated
 * before anything is sent, so a bad file changes nothing on the cluster.
 */
export async function deployConfig(
  target: Target,
  file: string,
  options: DeployOptions = {},
): Promise<DeployResult> {
  // Loaded on demand: the config stack (zod, esbuild, tsx) costs every other command a few hundred
  // ms of start-up on a busy machine, and only deploy needs it.
  const { buildApplicationSpecs } = await import("../config/build-specs.js");
  const { loadServeConfig } = await import("../config/serve-config.js");
  const head = readHeadRecord(target.stateDir);
  checkGrpcServed(
    loadServeConfig(file).grpcOptions,
    file,
    head?.address === target.address ? head : undefined,
  );
  const applications = await buildApplicationSpecs(file, { force: options.force ?? false });
  const ctl = await connectController(target);
  try {
    const timeoutMs = options.timeoutMs ?? 60_000;
    // A failover (lease TTL + recovery window) takes a few seconds; no controller at all fails sooner.
    await deployWithRetry(ctl, { applications }, Date.now() + Math.min(timeoutMs, FAILOVER_MS));
    if (options.wait === false) return { applications, status: undefined };
    const names = applications.map((a) => a.name);
    const status = await waitDeployed(ctl, names, timeoutMs, options.onProgress);
    await waitForProxyRoutes(target, servesAll(applications));
    return { applications, status };
  } finally {
    await ctl.close();
  }
}

/**
 * Waits until every deployment of `apps` is HEALTHY; rejects at once on DEPLOY_FAILED / UNHEALTHY.
 * Kept for callers of the earlier API; {@link waitDeployed} is the implementation.
 */
export async function waitHealthy(
  ctl: ControllerClient,
  apps: readonly string[],
  timeoutMs: number,
  onProgress?: (report: StatusReport) => void,
): Promise<StatusReport> {
  return waitDeployed(ctl, apps, timeoutMs, (_line, report) => onProgress?.(report));
}
