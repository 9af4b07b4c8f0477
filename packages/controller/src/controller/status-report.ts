import type { DeploymentStatus, DeploymentStatusReport, StatusReport } from "@tsserve/protocol";
import type { ControllerCore } from "./core.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";

/** HEALTHY / UPDATING / UNHEALTHY and why, from a deployment's record and replicas. */
export function deploymentHealth(
  d: DeploymentRecord,
  replicas: readonly ReplicaRecord[],
  hasAgents: boolean,
): { status: DeploymentStatus; message: string } {
  if (d.unhealthy !== null) return { status: "UNHEALTHY", message: d.unhealthy };
  if (d.deleting) return { status: "UPDATING", message: "deleting: draining replicas" };
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

/** The `ctl.status` answer: applications, deployments, replicas and nodes. */
export function buildStatusReport(core: ControllerCore): StatusReport {
  const all = core.table.all();
  const hasAgents = core.nodes.size > 0;
  const applications = [...core.desired.apps.values()]
    .filter((a) => !a.deleting)
    .map((a) => {
      const deployments: DeploymentStatusReport[] = [...core.desired.deployments.values()]
        .filter((d) => d.app === a.spec.name && !d.deleting)
        .map((d) => {
          const replicas = all.filter((r) => r.app === d.app && r.deployment === d.name);
          const health = deploymentHealth(d, replicas, hasAgents);
          return {
            name: d.name,
            status: health.status,
            message: health.message,
            targetReplicas: d.target,
            replicas: replicas
              .map((r) => ({
                replicaId: r.replicaId,
                nodeId: r.nodeId,
                state: r.state,
                ongoing: r.ongoing,
                startedAt: r.startedAt,
                pid: r.pid,
                rejectedMessages: r.rejectedMessages ?? 0,
              }))
              .sort((x, y) => (x.replicaId < y.replicaId ? -1 : 1)),
          };
        });
      return { name: a.spec.name, routePrefix: a.spec.routePrefix, ingress: a.spec.ingress, deployments };
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
    controller: { rejectedMessages: core.rejectedMessages, id: core.opts.controllerId },
  };
}
