import type { ApplicationStatus, DeploymentStatusReport } from "@tsserve/protocol";
import type { DeploymentRecord } from "./types.js";

/**
 * An application's state from its deployments', as Ray Serve derives `ApplicationStatus`:
 * DELETING wins, then a failed deployment (DEPLOY_FAILED if no replica of its version was ever
 * READY, else UNHEALTHY), then DEPLOYING while any deployment is UPDATING, else RUNNING.
 */
export function applicationStatus(
  deleting: boolean,
  deployments: readonly { record: DeploymentRecord; report: DeploymentStatusReport }[],
): { status: ApplicationStatus; message: string } {
  if (deleting) {
    const left = deployments.reduce((n, d) => n + d.report.replicas.length, 0);
    return { status: "DELETING", message: `draining ${left} replica${left === 1 ? "" : "s"}` };
  }
  const failed = deployments.filter((d) => d.report.status === "UNHEALTHY");
  if (failed.length > 0) {
    const neverReady = failed.some((d) => d.record.readyOnce !== true);
    return {
      status: neverReady ? "DEPLOY_FAILED" : "UNHEALTHY",
      message: failed.map((d) => `${d.report.name}: ${d.report.message}`).join("; "),
    };
  }
  const updating = deployments.filter((d) => d.report.status === "UPDATING");
  if (updating.length > 0) {
    return {
      status: "DEPLOYING",
      message: updating.map((d) => `${d.report.name}: ${d.report.message}`).join("; "),
    };
  }
  return { status: "RUNNING", message: "" };
}
