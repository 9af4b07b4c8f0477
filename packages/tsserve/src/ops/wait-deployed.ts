import type { ControllerClient } from "@tsserve/controller";
import {
  UnavailableError,
  isTsserveError,
  type ApplicationStatusReport,
  type StatusReport,
} from "@tsserve/protocol";
import { type DeployRequest } from "@tsserve/protocol/internal";

const POLL_MS = 250;
/** After a failure shows, how long to wait for the failed replica's stderr tail to arrive. */
const LOG_GRACE_MS = 1500;

/**
 * A deploy that reached a terminal state (DEPLOY_FAILED or UNHEALTHY). `detail` holds the failed
 * replica's stderr tail, which the CLI prints under the one-line message.
 */
export class DeployFailedError extends Error {
  // `name` stays "Error": the CLI's one-line report then starts with the message, which already
  // says DEPLOY_FAILED or UNHEALTHY.
  /** Marks these errors for callers that do not import the class. */
  readonly deployFailed = true;
  constructor(
    message: string,
    /** Lines to show under the message (the failed replica's stderr tail); "" when none. */
    readonly detail: string,
  ) {
    super(message);
  }
}

/** One line per application saying how far it got, e.g. `chat: DEPLOYING (Chat: 1/4 replicas running)`. */
export function progressLine(report: StatusReport, apps: readonly string[]): string {
  return apps
    .map((name) => {
      const app = report.applications.find((a) => a.name === name);
      if (app === undefined) return `${name}: waiting for the controller`;
      return `${name}: ${app.status}${app.message ? ` (${app.message})` : ""}`;
    })
    .join("; ");
}

function isDone(app: ApplicationStatusReport): boolean {
  return (
    app.status === "RUNNING" &&
    app.deployments.every((d) => d.replicas.filter((r) => r.state === "RUNNING").length >= d.targetReplicas)
  );
}

function failureOf(report: StatusReport, apps: readonly string[]): ApplicationStatusReport | undefined {
  return report.applications.find(
    (a) => apps.includes(a.name) && (a.status === "DEPLOY_FAILED" || a.status === "UNHEALTHY"),
  );
}

/** The error of a failed application, with the stderr tail of its failed replica when there is one. */
function deployFailed(app: ApplicationStatusReport): DeployFailedError {
  const logs = app.deployments
    .filter((d) => d.status === "UNHEALTHY" && d.lastErrorLog)
    .map((d) => `--- stderr of the last failed ${d.name} replica ---\n${d.lastErrorLog}`);
  return new DeployFailedError(
    `${app.name}: ${app.status}: ${app.message}; see \`tsserve status\` and \`tsserve logs ${app.name}\``,
    logs.join("\n"),
  );
}

/** `ctl.status`, retried while no controller answers (a failover takes a few seconds). */
async function statusWithRetry(ctl: ControllerClient, deadline: number): Promise<StatusReport> {
  for (;;) {
    try {
      return await ctl.status();
    } catch (e) {
      if (!(isTsserveError(e) && e.code === "UNAVAILABLE") || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

/**
 * Sends a deploy request, again while no controller answers (deploy is idempotent): a deploy
 * started during a failover lands on the new leader.
 */
export async function deployWithRetry(
  ctl: ControllerClient,
  request: DeployRequest,
  deadline: number,
): Promise<void> {
  for (;;) {
    try {
      return await ctl.deploy(request);
    } catch (e) {
      if (!(isTsserveError(e) && e.code === "UNAVAILABLE") || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

/**
 * Polls until every deployment of `apps` is HEALTHY with all target replicas RUNNING (resolves),
 * or one application is DEPLOY_FAILED / UNHEALTHY (rejects at once with DeployFailedError, after
 * a short wait for the failed replica's stderr tail), or `timeoutMs` passes (UnavailableError).
 * Polls survive a controller failover: an unanswered poll is retried until the deadline.
 * `onProgress` gets a line whenever the progress line changes.
 */
export async function waitDeployed(
  ctl: ControllerClient,
  apps: readonly string[],
  timeoutMs: number,
  onProgress?: (line: string, report: StatusReport) => void,
): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let failedAt = 0;
  for (;;) {
    const report = await statusWithRetry(ctl, deadline);
    const line = progressLine(report, apps);
    if (line !== last) onProgress?.(line, report);
    last = line;
    // A controller still recovering reports the checkpoint's replica states: decide nothing on them.
    if (report.controller?.recovering !== true) {
      const failed = failureOf(report, apps);
      if (failed) {
        failedAt ||= Date.now();
        const hasLog = failed.deployments.every((d) => d.status !== "UNHEALTHY" || d.lastErrorLog);
        if (hasLog || Date.now() - failedAt > LOG_GRACE_MS) throw deployFailed(failed);
      } else {
        failedAt = 0;
        const all = apps.map((n) => report.applications.find((a) => a.name === n));
        if (all.every((a) => a !== undefined && isDone(a))) return report;
      }
    }
    if (Date.now() > deadline) {
      throw new UnavailableError(
        `not healthy after ${Math.round(timeoutMs / 1000)} s: ${line}; see \`tsserve status\``,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
