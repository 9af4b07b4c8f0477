import type { DeploymentStatus, DeploymentStatusReport, StatusReport } from "@tsserve/protocol";
import { applicationStatus } from "./application-status.js";
import type { ControllerCore } from "./core.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";

/** HEALTHY / UPDATING / UNHEALTHY and why, from a deployment's record and replicas. */
export function deploymentHealth(
  d: DeploymentRecord,
  replicas: readonly ReplicaRecord[],
  hasAgents: boolean,
): { status: DeploymentStatus; message: string } {
  if (d.unhealthy !== null) return { status: "UNHEALTHY", message: d.unhealthy };
  if (d.deleting) return { status: "UPDATING", message: `deleting: draining ${replicas.length} replicas` };
  const current = replicas.filter((r) => r.versionKey === d.versionKey);
  const running = current.filter((r) => r.state === "RUNNING").length;
  const old = replicas.filter((r) => r.versionKey !== d.versionKey && r.state !== "STOPPED").length;
  if (old > 0) {
    return {
      status: "UPDATING",
      message: `rolling update: ${running}/${d.target} new replicas running, ${old} old left`,
    };
  }
  const draining = replicas.filter((r) => r.state === "DRAINING").length;
  if (running !== d.target || current.length !== running + draining) {
    const why = !hasAgents
      ? "no agent is alive to place replicas on"
      : d.lastError && d.failures > 0
        ? `last error: ${d.lastError}`
        : "";
    return {
      status: "UPDATING",
      message: `${running}/${d.target} replicas running${why ? `; ${why}` : ""}`,
    };
  }
  return { status: "HEALTHY", message: "" };
}

/** One deployment's entry in the status report. */
function deploymentReport(
  d: DeploymentRecord,
  replicas: readonly ReplicaRecord[],
  hasAgents: boolean,
): DeploymentStatusReport {
  const health = deploymentHealth(d, replicas, hasAgents);
  return {
    name: d.name,
    status: health.status,
    message: health.message,
    targetReplicas: d.deleting ? 0 : d.target,
    replicas: replicas
      .map((r) => ({
        replicaId: r.replicaId,
        nodeId: r.nodeId,
        state: r.state,
        ongoing: r.ongoing,
        startedAt: r.startedAt,
        pid: r.pid,
        rejectedMessages: r.rejectedMessages ?? 0,
        codeVersion: r.codeVersion,
        restarts: r.restarts ?? 0,
        ...(r.sessions === undefined ? {} : { sessions: r.sessions, handoffs: r.handoffs ?? 0 }),
        ...(d.spec.config.multiplexed === undefined ? {} : { models: r.models ?? [] }),
      }))
      .sort((x, y) => (x.replicaId < y.replicaId ? -1 : 1)),
    restarts: d.restarts ?? 0,
    lastError: d.lastError,
    lastErrorLog: d.lastErrorLog ?? "",
    router: d.spec.config.requestRouter,
  };
}

/**
 * The `ctl.status` answer: applications (a deleted one stays, DELETING, until its replicas are
 * gone), deployments, replicas and nodes.
 */
export function buildStatusReport(core: ControllerCore): StatusReport {
  const all = core.table.all();
  const hasAgents = core.nodes.size > 0;
  const applications = [...core.desired.apps.values()].map((a) => {
    const deps = [...core.desired.deployments.values()]
      .filter((d) => d.app === a.spec.name && (a.deleting || !d.deleting || hasReplicas(all, d)))
      .map((d) => ({
        record: d,
        report: deploymentReport(
          d,
          all.filter((r) => r.app === d.app && r.deployment === d.name),
          hasAgents,
        ),
      }));
    const state = applicationStatus(a.deleting, deps);
    return {
      name: a.spec.name,
      status: state.status,
      message: state.message,
      routePrefix: a.spec.routePrefix,
      ingress: a.spec.ingress,
      deployments: deps.map((d) => d.report),
    };
  });
  const nodes = [...core.nodes.values()].map((n) => ({
    nodeId: n.nodeId,
    replicas: all.filter((r) => r.nodeId === n.nodeId).length,
    lastSeen: n.lastSeen,
    rejectedMessages: n.rejectedMessages,
  }));
  return {
    applications,
    nodes,
    controller: {
      rejectedMessages: core.rejectedMessages,
      id: core.opts.controllerId,
      ...(core.recovering ? { recovering: true } : {}),
    },
  };
}

function hasReplicas(all: readonly ReplicaRecord[], d: DeploymentRecord): boolean {
  return all.some((r) => r.app === d.app && r.deployment === d.name);
}
