import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { KV } from "nats";

/** KV key of the leader lease. */
export const LEASE_KEY = "leader";

interface LeaseValue {
  holder: string;
  /** Holder's epoch ms when the lease lapses unless renewed (informational). */
  expiresAt: number;
  /** The writing process, random per LeaderLease (a restarted holder keeps its id, not this). */
  session?: string;
  /** The writer's monotonic clock (ms) when it sent this write: only differences are used. */
  mono?: number;
}

/**
 * A leader lease in JetStream KV, taken and renewed with compare-and-swap on the key's revision.
 * A contender does not trust the holder's clock: it takes over only once the holder's last renewal
 * was sent at least `ttlMs` ago on its own (monotonic) clock. The holder demotes itself when it has
 * not renewed for `ttlMs - renewMs`, so by then it has stopped leading.
 *
 * When the contender first sees a renewal it bounds when it was sent: no later than now, and, if
 * the same holder process wrote the renewal it saw before, no later than that one's bound plus the
 * time between the two on the holder's own clock (a duration: offsets between machines do not
 * matter). The second bound matters after a gap in the contender's reads, such as the bucket's
 * raft election when the machine of the leader and the bucket leader dies: the holder's last
 * renewal, sent just before the crash, is first seen seconds later, and "now" alone would make the
 * contender wait a whole `ttlMs` more after the election (2 s of a 10 s takeover).
 */
export class LeaderLease {
  private readonly session = randomBytes(6).toString("hex");
  private revision = 0;
  private seenRevision = -1;
  /** Local monotonic ms by which the seen renewal was sent, at the latest. */
  private seenAt = 0;
  private seen: { session: string; mono: number } | undefined;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** A tick came while one was in flight (a read waiting out its timeout): run one right after. */
  private missedTick = false;
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
    const value: LeaseValue = {
      holder: this.holder,
      expiresAt: Date.now() + this.ttlMs,
      session: this.session,
      mono: performance.now(),
    };
    return new TextEncoder().encode(JSON.stringify(value));
  }

  /** Notes a renewal seen for the first time, with the latest local time it can have been sent. */
  private sawRenewal(revision: number, v: LeaseValue, readAt: number): void {
    const writer =
      typeof v.session === "string" && typeof v.mono === "number"
        ? { session: v.session, mono: v.mono }
        : undefined;
    const prev = this.seen;
    this.seenAt =
      writer !== undefined && prev !== undefined && writer.session === prev.session
        ? Math.min(readAt, this.seenAt + Math.max(0, writer.mono - prev.mono))
        : readAt;
    this.seenRevision = revision;
    this.seen = writer;
  }

  private setLeader(leader: boolean): void {
    if (leader === this.isLeader) return;
    this.isLeader = leader;
    this.onChange(leader);
  }

  /** One attempt to take or renew the lease. Never throws. */
  async tick(): Promise<void> {
    if (this.ticking) {
      this.missedTick = true;
      return;
    }
    this.ticking = true;
    const now = performance.now();
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
        const readAt = performance.now();
        const v = JSON.parse(new TextDecoder().decode(e.value)) as LeaseValue;
        if (e.revision !== this.seenRevision) this.sawRenewal(e.revision, v, readAt);
        // Our own stale lease (restart with the same id) can be taken back at once.
        if (v.holder !== this.holder && readAt - this.seenAt < this.ttlMs) return;
        this.revision = await this.kv.update(LEASE_KEY, this.encode(), e.revision);
        this.term = this.revision;
        this.log(`took the leader lease${v.holder !== this.holder ? ` from ${v.holder}` : ""}`);
      }
      this.lastRenewed = now;
      this.setLeader(true);
    } catch (e) {
      // A failed CAS means someone else holds or just took the lease.
      if (this.isLeader && performance.now() - this.lastRenewed >= this.ttlMs - this.renewMs) {
        this.log(`lost the leader lease: ${(e as Error).message}`);
        this.setLeader(false);
      } else if (this.isLeader && /wrong last sequence/i.test((e as Error).message)) {
        this.log("leader lease taken by another controller");
        this.setLeader(false);
      }
    } finally {
      this.ticking = false;
      // Right after a bucket election the first read that can succeed should not wait for the
      // next interval: a standby's takeover waits on it.
      if (this.missedTick && this.timer) {
        this.missedTick = false;
        void this.tick();
      }
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
