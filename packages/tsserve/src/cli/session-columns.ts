import type { DeploymentStatusReport, StatusReport } from "@tsserve/protocol";

type ReplicaStatus = DeploymentStatusReport["replicas"][number];

/**
 * The session columns of `tsserve status` (issue 19): sessions each replica of a stateful
 * deployment owns and the hand-offs in progress, from the replicas' heartbeats. Shown only when
 * some deployment is stateful, so a cluster without `sessionState` prints what it always did.
 */

/** Whether any replica reports sessions (a deployment with `sessionState`). */
export function hasSessionColumns(report: StatusReport): boolean {
  return report.applications.some((a) =>
    a.deployments.some((d) => d.replicas.some((r) => r.sessions !== undefined)),
  );
}

/** SESSIONS and HANDOFFS of one replica; "-" for a stateless one. */
export function replicaSessionCells(r: ReplicaStatus): [string, string] {
  return r.sessions === undefined ? ["-", "-"] : [String(r.sessions), String(r.handoffs ?? 0)];
}

/** A deployment's sessions over its replicas, with the hand-offs in progress: "12 (2 moving)". */
export function deploymentSessionCell(d: DeploymentStatusReport): string {
  const stateful = d.replicas.filter((r) => r.sessions !== undefined);
  if (stateful.length === 0) return "-";
  const sessions = stateful.reduce((n, r) => n + (r.sessions ?? 0), 0);
  const moving = stateful.reduce((n, r) => n + (r.handoffs ?? 0), 0);
  return moving > 0 ? `${sessions} (${moving} moving)` : String(sessions);
}
