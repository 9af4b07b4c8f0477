import type { KV } from "nats";

/** KV key of the leader lease. */
export const LEASE_KEY = "leader";

interface LeaseValue {
  holder: string;
  /** Holder's epoch ms when the lease lapses unless renewed (informational). */
  expiresAt: number;
}

/**
 * A leader lease in JetStream KV, taken and renewed with compare-and-swap on the key's revision.
 * A contender does not trust the holder's clock: it takes over only after the lease's revision has
 * stayed unchanged for `ttlMs` of its own time.
 */
export class LeaderLease {
  private revision = 0;
  private seenRevision = -1;
  private seenAt = 0;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Whether this controller holds the lease right now. */
  isLeader = false;
  /**
   * The lease term: the KV revision at which this controller took the lease. Revisions only grow,
   * so a successor's term is always higher; agents refuse commands of a term below one they obeyed.
   */
  term = 0;

  constructor(
    private readonly kv: KV,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly renewMs: number,
    private readonly onChange: (leader: boolean) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Tries at once, then every renewMs. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.renewMs);
    this.timer.unref();
  }

  private encode(): Uint8Array {
    return new TextEncoder().encode(
      JSON.stringify({ holder: this.holder, expiresAt: Date.now() + this.ttlMs }),
    );
  }

  private setLeader(leader: boolean): void {
    if (leader === this.isLeader) return;
    this.isLeader = leader;
    this.onChange(leader);
  }

  /** One attempt to take or renew the lease. Never throws. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const now = Date.now();
    try {
      if (this.isLeader) {
        this.revision = await this.kv.update(LEASE_KEY, this.encode(), this.revision);
        this.lastRenewed = now;
        return;
      }
      const e = await this.kv.get(LEASE_KEY);
      if (!e || e.operation !== "PUT") {
        this.revision = await this.kv.create(LEASE_KEY, this.encode());
        this.term = this.revision;
      } else {
        const v = JSON.parse(new TextDecoder().decode(e.value)) as LeaseValue;
        if (e.revision !== this.seenRevision) {
          this.seenRevision = e.revision;
          this.seenAt = now;
        }
        // Our own stale lease (restart with the same id) can be taken back at once.
        if (v.holder !== this.holder && now - this.seenAt < this.ttlMs) return;
        this.revision = await this.kv.update(LEASE_KEY, this.encode(), e.revision);
        this.term = this.revision;
        this.log(`took the leader lease${v.holder !== this.holder ? ` from ${v.holder}` : ""}`);
      }
      this.lastRenewed = now;
      this.setLeader(true);
    } catch (e) {
      // A failed CAS means someone else holds or just took the lease.
      if (this.isLeader && Date.now() - this.lastRenewed >= this.ttlMs - this.renewMs) {
        this.log(`lost the leader lease: ${(e as Error).message}`);
        this.setLeader(false);
      } else if (this.isLeader && /wrong last sequence/i.test((e as Error).message)) {
        this.log("leader lease taken by another controller");
        this.setLeader(false);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Stops renewing; with `release`, deletes the lease so a successor takes over at once. */
  async stop(release: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (release && this.isLeader) {
      try {
        await this.kv.delete(LEASE_KEY);
      } catch (e) {
        this.log(`could not release the leader lease: ${(e as Error).message}`);
      }
    }
    this.isLeader = false;
  }
}
