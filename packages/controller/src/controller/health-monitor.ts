import type { ControllerCore } from "./core.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";
import { depKey } from "./types.js";

/** Ray: a constructor is retried min(numReplicas * 3, 20) times before the deployment is UNHEALTHY. */
export const MAX_PER_REPLICA_RETRIES = 3;
export const MAX_CONSTRUCTOR_RETRIES = 20;

/** Extra time after gracefulShutdownTimeoutMs before a silent draining replica is presumed gone. */
const DRAIN_SLACK_MS = 5000;

/** How many failed starts a deployment may have before it is marked UNHEALTHY. */
export function failureLimit(d: DeploymentRecord): number {
  return Math.min(Math.max(1, d.target) * MAX_PER_REPLICA_RETRIES, MAX_CONSTRUCTOR_RETRIES);
}

/**
 * Counts a replica that died before it was READY (constructor threw, import failed, crashed while
 * starting). Sets an exponential backoff for the next start and, past the limit, marks the
 * deployment UNHEALTHY so it stops restarting until the next deploy.
 */
export function recordFailure(
  core: ControllerCore,
  d: DeploymentRecord,
  message: string,
  now: number,
  stderrTail?: string,
): void {
  d.failures++;
  d.lastError = message;
  if (stderrTail) d.lastErrorLog = stderrTail;
  // The backoff doubles per round of the whole deployment, not per replica: N replicas failing
  // together are one round, so a crashing app with many replicas still fails within seconds.
  const round = Math.ceil(d.failures / Math.max(1, d.target));
  const delay = Math.min(core.opts.backoffBaseMs * 2 ** (round - 1), core.opts.backoffMaxMs);
  d.backoffUntil = now + delay;
  const limit = failureLimit(d);
  if (d.failures >= limit && d.unhealthy === null) {
    d.unhealthy = `replica failed to start ${d.failures} times (limit ${limit}); last error: ${message}`;
    core.log(`${depKey(d.app, d.name)} is UNHEALTHY: ${d.unhealthy}`);
  } else {
    core.log(
      `${depKey(d.app, d.name)}: replica failed to start (${d.failures}/${limit}), retry in ${delay} ms: ${message}`,
    );
  }
}

/** A replica became READY: the crash-loop counter starts over. */
export function recordReady(d: DeploymentRecord): void {
  d.failures = 0;
  d.backoffUntil = 0;
  d.unhealthy = null;
  d.readyOnce = true;
}

/**
 * A STARTING replica passed its deployment's `startupTimeoutS`: a constructor that hangs once will
 * hang again, so the deployment fails at once (retrying would multiply the user's wait).
 */
export function recordStartupTimeout(core: ControllerCore, d: DeploymentRecord, r: ReplicaRecord): void {
  const limitS = (d.spec.config.startupTimeoutMs ?? core.opts.startupTimeoutMs) / 1000;
  d.lastError = `replica ${r.replicaId} not READY within startupTimeoutS (${limitS} s): constructor or initialize() still running`;
  d.failures++;
  if (d.unhealthy === null) {
    d.unhealthy = d.lastError;
    core.log(`${depKey(d.app, d.name)} is UNHEALTHY: ${d.unhealthy}`);
  }
}

/**
 * Removes a replica that is gone or presumed gone. A RUNNING one leaves the published set at once;
 * the reconciler replaces it on its next tick. With `stopIt`, its agent is asked to kill it too, in
 * case it is alive but unreachable (a partitioned replica must not keep serving stale membership).
 */
export function removeReplica(core: ControllerCore, r: ReplicaRecord, reason: string, stopIt: boolean): void {
  core.table.remove(r.replicaId);
  if (r.state === "RUNNING" && r.stopRequestedAt === 0) countLoss(core, r, reason);
  if (stopIt && core.nodes.has(r.nodeId)) core.stopOnAgent(r, false, 0);
  // Declared dead but maybe alive behind a partition: it must not serve again when it comes back.
  if (stopIt) core.fence(r, reason);
  if (r.state === "RUNNING" || r.state === "DRAINING") core.log(`replica ${r.replicaId} removed: ${reason}`);
  core.membershipChanged(r.app, r.deployment);
}

/** A serving replica was lost (not stopped by us): its replacement inherits the slot's count. */
function countLoss(core: ControllerCore, r: ReplicaRecord, reason: string): void {
  const d = core.desired.live(r.app, r.deployment);
  if (!d || r.versionKey !== d.versionKey) return;
  d.restarts = (d.restarts ?? 0) + 1;
  (d.lostSlots ??= []).push((r.restarts ?? 0) + 1);
  d.lastError = `replica ${r.replicaId} lost: ${reason}`;
}

/**
 * The periodic liveness sweep: agents whose heartbeats stopped (their replicas are presumed lost),
 * replicas silent past their deployment's heartbeatTimeoutMs, replicas stuck STARTING, and
 * draining replicas that never reported their exit.
 */
export function sweepLiveness(core: ControllerCore, now: number): void {
  if (core.recovering) return;
  for (const node of [...core.nodes.values()]) {
    if (now - node.lastSeen <= core.opts.agentTimeoutMs) continue;
    core.nodes.delete(node.nodeId);
    core.log(`agent ${node.nodeId} silent for ${now - node.lastSeen} ms: presumed lost with its replicas`);
    for (const r of core.table.onNode(node.nodeId)) {
      removeReplica(core, r, `agent ${node.nodeId} lost`, false);
      // Its agent may be dead with the replica orphaned, or cut off with it: either way it must
      // stop, and the agent cannot be asked.
      core.fence(r, `agent ${node.nodeId} lost`);
    }
  }
  for (const r of core.table.all()) {
    const d = core.desired.deployments.get(depKey(r.app, r.deployment));
    const timeoutMs = d?.spec.config.heartbeatTimeoutMs ?? 5000;
    switch (r.state) {
      case "STARTING":
        if (now - r.createdAt > (d?.spec.config.startupTimeoutMs ?? core.opts.startupTimeoutMs)) {
          removeReplica(core, r, "not READY within the startup timeout", true);
          if (d) recordStartupTimeout(core, d, r);
        }
        break;
      case "RUNNING":
        if (now - r.lastHeard > timeoutMs)
          removeReplica(core, r, `no heartbeat for ${now - r.lastHeard} ms`, true);
        break;
      case "DRAINING": {
        const graceMs = d?.spec.config.gracefulShutdownTimeoutMs ?? 20_000;
        const deadline =
          r.stopRequestedAt > 0 ? r.stopRequestedAt + graceMs + DRAIN_SLACK_MS : r.lastHeard + timeoutMs;
        if (now > deadline && now - r.lastHeard > timeoutMs)
          removeReplica(core, r, "drain did not report an exit", true);
        break;
      }
      case "STOPPED":
        removeReplica(core, r, "stopped", false);
        break;
    }
  }
  core.table.sweepTombstones(now);
}
