import type { DeploymentStatusReport, StatusReport } from "@tsserve/protocol";

type ReplicaStatus = DeploymentStatusReport["replicas"][number];

/**
 * The MODELS column of `tsserve status` (issue 21): the models each replica of a multiplexed
 * deployment has loaded or is loading, from its heartbeats. Shown only when some deployment is
 * multiplexed, so a cluster without `multiplexed` prints what it always did.
 */

/** Most model ids printed in one cell; the rest are counted ("a, b, c +2"). */
const MAX_SHOWN = 4;

/** Whether any replica reports models (a deployment with `multiplexed`). */
export function hasModelColumn(report: StatusReport): boolean {
  return report.applications.some((a) =>
    a.deployments.some((d) => d.replicas.some((r) => r.models !== undefined)),
  );
}

/** The models of one replica, most recently used first; "-" for a replica that is not multiplexed. */
export function replicaModelCell(r: ReplicaStatus): string {
  if (r.models === undefined) return "-";
  if (r.models.length === 0) return "none";
  const recentFirst = [...r.models].reverse();
  const shown = recentFirst.slice(0, MAX_SHOWN).join(", ");
  return recentFirst.length > MAX_SHOWN ? `${shown} +${recentFirst.length - MAX_SHOWN}` : shown;
}
