/** What an entry carries so that a {@link WaitIndex} can list it without a map lookup. */
export interface Indexed<T extends Indexed<T>> {
  /** Arrival order: unique and growing with `createdAt`; every list is ordered by it. */
  readonly arrival: number;
  /** @internal The entry's tickets, chained through `sibling`. */
  waitTickets: WaitTicket<T> | null;
}

/** Which list of a replica a ticket goes in. */
export const WaitList = {
  /** The replica is a first choice of the call (or the call has no owner patience). */
  FIRST: 0,
  /** The call's patience ran out and the replica is only a later choice: spare capacity only. */
  SPILL: 1,
  /** In no list: the call only counts as an owner (it waits for probe answers before it chooses). */
  NONE: 2,
} as const;
export type WaitList = (typeof WaitList)[keyof typeof WaitList];

/** One place of an entry: in one list of one replica, and/or counted among its owners. */
export class WaitTicket<T extends Indexed<T>> {
  prev: WaitTicket<T> | null = null;
  next: WaitTicket<T> | null = null;
  /** The next ticket of the same entry. */
  sibling: WaitTicket<T> | null = null;

  constructor(
    readonly entry: T,
    readonly waiters: ReplicaWaiters<T>,
    readonly list: TicketList<T> | null,
    readonly owner: boolean,
  ) {}
}

/** An intrusive list of tickets ordered by their entries' arrival. */
class TicketList<T extends Indexed<T>> {
  first: WaitTicket<T> | null = null;
  last: WaitTicket<T> | null = null;

  /** Inserts by arrival, walking from the tail (a new call is the youngest: O(1)); returns the steps. */
  insert(t: WaitTicket<T>): number {
    let steps = 0;
    let after = this.last;
    while (after !== null && after.entry.arrival > t.entry.arrival) {
      after = after.prev;
      steps++;
    }
    t.prev = after;
    t.next = after === null ? this.first : after.next;
    if (t.next === null) this.last = t;
    else t.next.prev = t;
    if (after === null) this.first = t;
    else after.next = t;
    return steps;
  }

  unlink(t: WaitTicket<T>): void {
    if (t.prev === null) this.first = t.next;
    else t.prev.next = t.next;
    if (t.next === null) this.last = t.prev;
    else t.next.prev = t.prev;
    t.prev = t.next = null;
  }
}

/** The waiting calls one replica (or "any replica") may serve. */
class ReplicaWaiters<T extends Indexed<T>> {
  readonly first = new TicketList<T>();
  readonly spill = new TicketList<T>();
  /** Waiting calls with owner patience whose first group holds this replica. */
  owners = 0;
}

/**
 * Per-replica wait lists over a deployment's waiting calls, so that a freed slot finds the oldest
 * call that may use its replica without walking the calls that wait for other replicas. A call
 * holds one ticket per replica of its usable groups (one ticket in the "any" lists when a group is
 * every candidate); a freed slot compares two list heads. Lists hold the calls of one replica-set
 * version: the owner resets the index on a change and lists every waiting call again, oldest
 * first (appends, so O(1) each). Tickets of a reset index are dropped with it.
 */
export class WaitIndex<T extends Indexed<T>> {
  private byReplica = new Map<string, ReplicaWaiters<T>>();
  private any = new ReplicaWaiters<T>();
  private steps = 0;

  /** Tickets looked at so far (list heads compared, insertion steps): what dispatch costs, for tests. */
  get visited(): number {
    return this.steps;
  }

  /** Forgets every list (the replica set changed); entries' old tickets no longer count. */
  reset(): void {
    this.byReplica = new Map();
    this.any = new ReplicaWaiters<T>();
  }

  /**
   * Lists `entry` for `replicaId` (null: every candidate) in `list`; `owner` counts it among the
   * replica's owners (a call with owner patience whose first group holds it).
   */
  add(entry: T, replicaId: string | null, list: WaitList, owner: boolean): void {
    const w = replicaId === null ? this.any : this.waitersOf(replicaId);
    const l = list === WaitList.FIRST ? w.first : list === WaitList.SPILL ? w.spill : null;
    const t = new WaitTicket<T>(entry, w, l, owner);
    if (l !== null) this.steps += l.insert(t);
    if (owner) w.owners++;
    t.sibling = entry.waitTickets;
    entry.waitTickets = t;
  }

  /** Removes every ticket of `entry` (it was sent, cancelled, or is listed again). */
  remove(entry: T): void {
    for (let t = entry.waitTickets; t !== null; t = t.sibling) {
      t.list?.unlink(t);
      if (t.owner) t.waiters.owners--;
    }
    entry.waitTickets = null;
  }

  /** True when a waiting call with owner patience has `replicaId` in its first group. */
  ownerWaits(replicaId: string): boolean {
    return this.any.owners > 0 || (this.byReplica.get(replicaId)?.owners ?? 0) > 0;
  }

  /** The oldest entry listed for `replicaId` in `list` (FIRST or SPILL), any-replica lists included. */
  oldest(replicaId: string, list: WaitList): T | null {
    const w = this.byReplica.get(replicaId);
    const a = (list === WaitList.FIRST ? w?.first : w?.spill)?.first ?? null;
    const b = (list === WaitList.FIRST ? this.any.first : this.any.spill).first;
    this.steps += 2;
    if (a === null) return b?.entry ?? null;
    if (b === null || a.entry.arrival < b.entry.arrival) return a.entry;
    return b.entry;
  }

  private waitersOf(replicaId: string): ReplicaWaiters<T> {
    let w = this.byReplica.get(replicaId);
    if (w === undefined) this.byReplica.set(replicaId, (w = new ReplicaWaiters<T>()));
    return w;
  }
}
