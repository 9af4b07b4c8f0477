import type { ControllerClient } from "@tsserve/controller";
import { UnavailableError, type ApplicationSpec, type StatusReport } from "@tsserve/protocol";
import { connectController, type Target } from "../head/target.js";
import { servesAll, waitForProxyRoutes } from "./proxy-routes.js";

/** Options of {@link deployConfig}. */
export interface DeployOptions {
  /** Wait until every deployed deployment is HEALTHY. @default true */
  wait?: boolean;
  /** How long to wait for HEALTHY, in ms. @default 60000 */
  timeoutMs?: number;
  /** Roll every replica over even when the code version did not change. @default false */
  force?: boolean;
  /** Called with each status poll while waiting (progress output). */
  onProgress?: (report: StatusReport) => void;
}

/** What a deploy did. */
export interface DeployResult {
  applications: ApplicationSpec[];
  /** The last status seen (after waiting, when waiting). */
  status: StatusReport | undefined;
}

const POLL_MS = 250;

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
  const applications = await buildApplicationSpecs(file, { force: options.force ?? false });
  const ctl = await connectController(target);
  try {
    await ctl.deploy({ applications });
    if (options.wait === false) return { applications, status: undefined };
    const names = applications.map((a) => a.name);
    const status = await waitHealthy(ctl, names, options.timeoutMs ?? 60_000, options.onProgress);
    await waitForProxyRoutes(target, servesAll(applications));
    return { applications, status };
  } finally {
    await ctl.close();
  }
}

/** Every deployment of the named applications, with its health; undefined entries when missing. */
function unhealthy(report: StatusReport, apps: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of apps) {
    const app = report.applications.find((a) => a.name === name);
    if (app === undefined) {
      out.push(`${name}: not known to the controller yet`);
      continue;
    }
    for (const d of app.deployments) {
      const running = d.replicas.filter((r) => r.state === "RUNNING").length;
      if (d.status !== "HEALTHY" || running < d.targetReplicas) {
        out.push(
          `${name}/${d.name} ${d.status} ${running}/${d.targetReplicas}${d.message ? ` (${d.message})` : ""}`,
        );
      }
    }
  }
  return out;
}

/**
 * Polls `ctl.status` until every deployment of `apps` is HEALTHY with all target replicas RUNNING.
 * Times out with an UnavailableError that lists what is still not healthy and why.
 */
export async function waitHealthy(
  ctl: ControllerClient,
  apps: readonly string[],
  timeoutMs: number,
  onProgress?: (report: StatusReport) => void,
): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await ctl.status();
    onProgress?.(report);
    const pending = unhealthy(report, apps);
    if (pending.length === 0) return report;
    if (Date.now() > deadline) {
      throw new UnavailableError(
        `not healthy after ${Math.round(timeoutMs / 1000)} s: ${pending.join("; ")}; see \`tsserve status\``,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
