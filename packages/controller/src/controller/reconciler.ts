import type { DesiredState } from "./desired-state.js";
import { chooseNode, drainOrder } from "./placement.js";
import type { ReplicaTable } from "./replica-table.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";
import { depKey } from "./types.js";

/** Share of the target that a rolling update may start (and so drain) at a time. */
const ROLLING_SHARE = 0.25;

/** What the reconciler may do; the controller implements these with agent requests. */
export interface ReconcileActions {
  /** Adds a STARTING record to the table at once, then asks the agent to spawn it. */
  start(d: DeploymentRecord, nodeId: string): void;
  /**
   * Takes a replica out of service: a RUNNING one leaves the RUNNING set first (published), then
   * its agent drains it; a STARTING one is simply stopped.
   */
  stop(r: ReplicaRecord, reason: string): void;
  /** The deployment is deleted and has no replicas left: publish an empty set and forget it. */
  retire(d: DeploymentRecord): void;
  /** Called once per deployment per tick when no agent is alive to place a replica on. */
  noCapacity(d: DeploymentRecord): void;
}

/**
 * Converges one deployment toward its target replica count and version. Capacity never drops
 * during a rolling update: old RUNNING replicas are drained only when enough new ones are RUNNING,
 * and new ones start a bounded share at a time (max(1, 25 % of the target)).
 */
export function reconcileDeployment(
  d: DeploymentRecord,
  table: ReplicaTable,
  liveNodes: readonly string[],
  now: number,
  actions: ReconcileActions,
): void {
  const replicas = table.ofDeployment(d.app, d.name);
  const active = replicas.filter((r) => r.state === "STARTING" || r.state === "RUNNING");

  if (d.deleting) {
    for (const r of active) actions.stop(r, "deployment deleted");
    // Draining replicas stay in the table until their exit is reported; then the deployment goes.
    if (replicas.length === 0) actions.retire(d);
    return;
  }

  const target = d.target;
  const cur = active.filter((r) => r.versionKey === d.versionKey);
  const old = active.filter((r) => r.versionKey !== d.versionKey);
  const oldRunning = old.filter((r) => r.state === "RUNNING");

  // Old replicas that are not serving yet carry no capacity: stop them at once.
  for (const r of old)
    if (r.state === "STARTING") actions.stop(r, "superseded by a new version before it was ready");

  // Too many current replicas: drain the cheapest to lose.
  if (cur.length > target) {
    // Suspect: its agent is not live, or two heartbeat periods passed without one.
    const late = 2 * d.spec.config.heartbeatPeriodMs;
    const suspect = (r: ReplicaRecord): boolean => !liveNodes.includes(r.nodeId) || now - r.lastHeard > late;
    for (const r of drainOrder(cur, suspect).slice(0, cur.length - target))
      actions.stop(r, `scaling down to ${target}`);
  }

  // Too few: start more, unless crash-looping or given up.
  if (cur.length < target && d.unhealthy === null && now >= d.backoffUntil) {
    let missing = target - cur.length;
    if (oldRunning.length > 0) {
      const surge = Math.max(1, Math.ceil(target * ROLLING_SHARE));
      const starting = cur.filter((r) => r.state === "STARTING").length;
      missing = Math.min(missing, Math.max(0, surge - starting));
    }
    for (let i = 0; i < missing; i++) {
      const nodeId = chooseNode(liveNodes, table.all(), d.app, d.name);
      if (nodeId === undefined) {
        actions.noCapacity(d);
        break;
      }
      actions.start(d, nodeId);
    }
  }

  // Rolling update: drain old RUNNING replicas only as far as RUNNING capacity stays >= target.
  const curRunning = cur.filter((r) => r.state === "RUNNING").length;
  const drainable = Math.min(oldRunning.length, Math.max(0, curRunning + oldRunning.length - target));
  const oldest = [...oldRunning].sort((a, b) => a.createdAt - b.createdAt);
  for (const r of oldest.slice(0, drainable)) actions.stop(r, "replaced by a new version");
}

/** Reconciles every deployment; an exception in one is logged and does not stop the others. */
export function reconcileAll(
  desired: DesiredState,
  table: ReplicaTable,
  liveNodes: readonly string[],
  now: number,
  actions: ReconcileActions,
  log: (line: string) => void,
): void {
  for (const d of [...desired.deployments.values()]) {
    try {
      reconcileDeployment(d, table, liveNodes, now, actions);
    } catch (e) {
      log(`reconcile of ${depKey(d.app, d.name)} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
}
