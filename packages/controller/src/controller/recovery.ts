import type { ControllerCore } from "./core.js";
import type { DesiredState } from "./desired-state.js";
import { depKey, type ReplicaRecord } from "./types.js";

/** Agents heartbeat every second (DEFAULT_AGENT_HEARTBEAT_PERIOD_MS in @tsserve/cluster). */
const AGENT_HEARTBEAT_PERIOD_MS = 1000;
/** Slack on top of two heartbeat periods (jitter, a loaded machine). */
const RECOVERY_SLACK_MS = 250;

/**
 * How long recovery waits to hear the checkpointed replicas: long enough for two heartbeats of the
 * slowest listed deployment (two of its agent's, if a listed replica is still STARTING), capped by
 * `maxMs`. A replica of a dead machine is never heard; waiting the full cap for it would only delay
 * a standby's takeover.
 */
export function recoveryWindow(
  maxMs: number,
  listed: readonly ReplicaRecord[],
  desired: DesiredState,
): number {
  let period = 0;
  for (const r of listed) {
    const d = desired.deployments.get(depKey(r.app, r.deployment));
    period = Math.max(period, r.state === "STARTING" ? AGENT_HEARTBEAT_PERIOD_MS : 0);
    period = Math.max(period, d?.spec.config.heartbeatPeriodMs ?? maxMs);
  }
  return listed.length === 0
    ? Math.min(maxMs, 2 * AGENT_HEARTBEAT_PERIOD_MS + RECOVERY_SLACK_MS)
    : Math.min(maxMs, 2 * period + RECOVERY_SLACK_MS);
}

/**
 * Recovery after taking the lease: the checkpoint lists replicas, heartbeats say which are alive.
 * Live ones are adopted without a restart; membership is published only once this is done, so
 * routers never see a partial replica set (Ray: `done_recovering_event`).
 */

/**
 * Whether recovery may end before its window: every checkpointed RUNNING replica was heard, and
 * every STARTING one was heard or its own agent has reported (the agent lists it if it is still
 * starting). Another agent's report says nothing about it: a replica dropped here is fenced for good.
 */
export function recoveryComplete(
  core: Pick<ControllerCore, "nodes">,
  listed: readonly ReplicaRecord[],
  heard: ReadonlySet<string>,
): boolean {
  return listed.every((r) => heard.has(r.replicaId) || (r.state !== "RUNNING" && core.nodes.has(r.nodeId)));
}

/**
 * Whether recovery, `waitedMs` into it, may end: every checkpointed replica was heard
 * ({@link recoveryComplete}), or its window passed and no unheard replica is still listed by a live
 * agent ({@link awaitingListedReplica}), or the configured cap `maxMs` passed.
 */
export function recoveryOver(
  core: Pick<ControllerCore, "nodes">,
  listed: readonly ReplicaRecord[],
  heard: ReadonlySet<string>,
  waitedMs: number,
  windowMs: number,
  maxMs: number,
): boolean {
  if (recoveryComplete(core, listed, heard) || waitedMs >= maxMs) return true;
  return waitedMs >= windowMs && !awaitingListedReplica(core, listed, heard);
}

/**
 * Whether a checkpointed RUNNING replica is still unheard and may be alive: a live agent lists it
 * (its process exists, its heartbeat is only late), or its agent has not been heard yet either (on
 * a loaded machine the new leader may not have heard anyone yet). Recovery keeps waiting for such
 * a replica, up to the configured cap, rather than replacing a live one: a replaced replica is
 * fenced for good. Only a replica whose agent reported without listing it is given up at the end
 * of the short window. Waiting delays no caller (status and deploys are answered during
 * recovery), only the replacement of replicas of a dead machine.
 */
export function awaitingListedReplica(
  core: Pick<ControllerCore, "nodes">,
  listed: readonly ReplicaRecord[],
  heard: ReadonlySet<string>,
): boolean {
  return listed.some((r) => {
    if (heard.has(r.replicaId)) return false;
    const agent = core.nodes.get(r.nodeId);
    // A STARTING replica its agent lists is kept by pruneUnheard: no need to wait for it.
    return agent === undefined || (r.state === "RUNNING" && agent.replicaIds.has(r.replicaId));
  });
}

/**
 * Drops checkpointed replicas that were not heard. A replica still STARTING is kept if its agent
 * lists it (its READY heartbeat is still to come). Dropped ones are forgotten without a tombstone;
 * a late heartbeat of one finds its generation retired (below the checkpointed counter) and is
 * fenced, so recovery must not drop a replica that may be alive (see awaitingListedReplica).
 */
export function pruneUnheard(
  core: ControllerCore,
  listed: readonly ReplicaRecord[],
  heard: ReadonlySet<string>,
  now: number,
): void {
  for (const r of listed) {
    if (heard.has(r.replicaId)) continue;
    const rec = core.table.get(r.replicaId);
    if (!rec) continue;
    const listedByAgent = core.nodes.get(r.nodeId)?.replicaIds.has(r.replicaId) ?? false;
    if (rec.state === "STARTING" && listedByAgent) {
      rec.createdAt = now;
      continue;
    }
    core.table.forget(r.replicaId);
    core.log(`replica ${r.replicaId} from the checkpoint was not heard during recovery; replacing it`);
  }
}

/** A heartbeat body's replica id, if it has one (recovery notes whom it heard). */
export function heartbeatReplicaId(body: unknown): string | undefined {
  const id = (body as { replicaId?: unknown } | null)?.replicaId;
  return typeof id === "string" ? id : undefined;
}
