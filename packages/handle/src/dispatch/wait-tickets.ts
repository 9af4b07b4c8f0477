import type { ReplicaInfo } from "@tsserve/protocol";
import type { PendingRequest } from "../pending-request.js";
import { WaitList, type WaitIndex } from "./wait-index.js";

/**
 * Lists a waiting call for every replica it may use now (its ranked groups are current, and
 * `all` is the candidates array, whose group is listed once as "any replica"):
 *
 * - with owner patience (`spillAt` set), its first group's replicas in their FIRST lists, counted
 *   as owners; once the patience is over, its later groups' replicas in their SPILL lists;
 * - without (one group, or patience 0), every group's replicas in their FIRST lists;
 * - while it waits for probe answers, only the owner count: slot hand-offs skip it, but it still
 *   holds other sessions' spills off its owner.
 */
export function listWaiting(
  index: WaitIndex<PendingRequest>,
  req: PendingRequest,
  all: readonly ReplicaInfo[],
): void {
  index.remove(req);
  const groups = req.groups;
  if (groups === null || groups.length === 0) return;
  const owner = req.spillAt > 0;
  if (req.probing) {
    if (owner) listGroup(index, req, groups[0]!, all, WaitList.NONE, true);
    return;
  }
  const usable = groups.length <= 1 || req.patienceOver ? groups.length : 1;
  for (let rank = 0; rank < usable; rank++) {
    const first = rank === 0 || !owner;
    const list = first ? WaitList.FIRST : WaitList.SPILL;
    // A group of every candidate leaves later groups nothing to add (it is listed before them).
    if (listGroup(index, req, groups[rank]!, all, list, owner && rank === 0)) return;
  }
}

/** A listed call's owner patience ended: its later groups' replicas may now take it (SPILL lists). */
export function listSpills(
  index: WaitIndex<PendingRequest>,
  req: PendingRequest,
  all: readonly ReplicaInfo[],
): void {
  const groups = req.groups;
  if (groups === null || req.probing || req.waitTickets === null) return;
  for (let rank = 1; rank < groups.length; rank++)
    listGroup(index, req, groups[rank]!, all, WaitList.SPILL, false);
}

/** Lists `req` for every replica of `group`; true when the group is every candidate ("any"). */
function listGroup(
  index: WaitIndex<PendingRequest>,
  req: PendingRequest,
  group: readonly ReplicaInfo[],
  all: readonly ReplicaInfo[],
  list: WaitList,
  owner: boolean,
): boolean {
  if (group === all || coversAll(group, all)) {
    index.add(req, null, list, owner);
    return true;
  }
  for (let i = 0; i < group.length; i++) index.add(req, group[i]!.replicaId, list, owner);
  return false;
}

/**
 * True when a small group holds every candidate (PowerOfTwo's pair of two replicas): one "any"
 * ticket then does the work of one ticket per replica. Larger groups are listed per replica.
 */
function coversAll(group: readonly ReplicaInfo[], all: readonly ReplicaInfo[]): boolean {
  const n = all.length;
  if (group.length !== n || n > 4) return false;
  for (let i = 0; i < n; i++) {
    const id = all[i]!.replicaId;
    let found = false;
    for (let j = 0; j < n && !found; j++) found = group[j]!.replicaId === id;
    if (!found) return false;
  }
  return true;
}
