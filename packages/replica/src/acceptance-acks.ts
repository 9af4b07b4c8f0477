import type { Msg } from "nats";
import { encodeReply, ReplyKind } from "@tsserve/protocol/internal";

/** A call still running this long after it arrived gets an ACCEPTED reply (sent within 2× this). */
export const ACK_AFTER_MS = 5;

/**
 * Tells handles which calls this replica took, cheaply: only calls still running one tick
 * (`ACK_AFTER_MS`) after they arrived get an ACCEPTED reply; fast calls answer before that and
 * cost nothing. A handle whose replica dies then knows that a call without any reply never reached
 * it (NATS may deliver to a dead process's subscription for a moment) and sends it elsewhere,
 * while a call with one may have run. One interval timer, running only while calls outlive the
 * event-loop turn they arrived in.
 */
export class AcceptanceAcks {
  private fresh = new Set<Msg>();
  private aging = new Set<Msg>();
  private timer: NodeJS.Timeout | null = null;
  private startCheck = false;
  private closed = false;
  private readonly reply: Uint8Array[] = [];

  constructor(private readonly queueLen: () => number) {}

  /** A unary call was accepted. */
  track(msg: Msg): void {
    if (!msg.reply) return;
    this.fresh.add(msg);
    // The timer starts only if a call is still running when this turn of the event loop ends:
    // calls answered within their turn (most of a fast service's) never wake the process up.
    if (this.timer === null && !this.startCheck) {
      this.startCheck = true;
      setImmediate(this.startIfRunning);
    }
  }

  /** Whether the acknowledgement timer is running (it runs only while calls outlive their turn). */
  get ticking(): boolean {
    return this.timer !== null;
  }

  private readonly startIfRunning = (): void => {
    this.startCheck = false;
    if (this.closed || this.timer !== null) return;
    if (this.fresh.size === 0 && this.aging.size === 0) {
      // Every call of the turn answered in it: a fresh Set for the next turn's (see tick()).
      this.fresh = new Set();
      return;
    }
    this.timer = setInterval(() => this.tick(), ACK_AFTER_MS);
    this.timer.unref();
  };

  /** The call ended (its final reply goes out now). */
  done(msg: Msg): void {
    if (!this.fresh.delete(msg)) this.aging.delete(msg);
  }

  /** Stops the timer (the replica is closing). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.aging.size > 0) {
      const n = this.queueLen();
      const bytes = (this.reply[n] ??= encodeReply(ReplyKind.ACCEPTED, n));
      for (const msg of this.aging) {
        try {
          msg.respond(bytes);
        } catch {
          // Connection closing: the final reply (or the handle's liveness probe) settles the call.
        }
      }
    }
    // Calls that arrived during the last tick are acknowledged at the next one, if still running.
    // A new Set each tick, not the old one cleared: a long-lived Set churned once per call makes
    // V8 promote every call it held (each rehash or clear leaves the old table pointing at the
    // new one, and an old table in old space keeps it alive through scavenges; see the handle's
    // LiveCalls). A Set that lives two ticks dies young, and so does what it held.
    this.aging = this.fresh;
    this.fresh = new Set();
    if (this.aging.size === 0 && this.fresh.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
