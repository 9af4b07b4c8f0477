import type { Msg } from "nats";
import { encode, type RequestMessage } from "@tsserve/protocol/internal";
import { SessionStateError } from "@tsserve/protocol";
import type { MethodEntry } from "../method-table.js";
import type { SessionOrigin, SessionState } from "./session-api.js";
import type { StoredRecord } from "./session-store.js";

/** One call of a session waiting for its turn (it holds a replica slot already). */
export interface SessionCall {
  readonly msg: Msg;
  readonly req: RequestMessage;
  readonly entry: MethodEntry;
  /** Declared `shared`: may run beside other shared calls of the session. */
  readonly shared: boolean;
}

/**
 * Where a session is on this replica:
 * - ACQUIRING: becoming its owner (reading the record, asking the old owner); calls wait;
 * - OWNED: its calls run here;
 * - RELEASING: handing it off (or parking it at drain): queued calls finish here, new ones go to
 *   `releasingTo`.
 */
export const SlotStatus = { ACQUIRING: 0, OWNED: 1, RELEASING: 2 } as const;
export type SlotStatus = (typeof SlotStatus)[keyof typeof SlotStatus];

/**
 * One session this replica holds or is acquiring: its state, its KV revision and its queue. Calls
 * run in arrival order: an exclusive call alone, consecutive shared calls together (a FIFO
 * readers-writer lock, like Orleans' non-reentrant grains with read-only methods).
 */
export class SessionSlot implements SessionState<unknown> {
  status: SlotStatus = SlotStatus.ACQUIRING;
  origin: SessionOrigin = "new";
  /** KV revision of the record as this replica last wrote or read it. */
  revision = 0;
  /** The value `get()` returns, and its encoding (what is stored). */
  value: unknown = undefined;
  bytes: Uint8Array | null = null;
  /** `set()` or `delete()` since the last durable write. */
  dirty = false;
  /** Where calls go while RELEASING (undefined: parking at drain). */
  releasingTo: string | undefined;
  /** The acquisition (settles once OWNED, or failed). */
  acquired: Promise<void> | undefined;
  /** What the release wrote (parked), for the offer to the next owner. */
  parkedAs: StoredRecord | undefined;
  /** The release under way (RELEASING): true once parked, false when another replica took it. */
  released: Promise<boolean> | undefined;
  /** Epoch ms the last call ended (TTL). */
  lastUsed = Date.now();
  /**
   * Epoch ms of this replica's last write of the record, or earlier (every acquisition writes it
   * right after the slot is made). Durable buckets age records by `max_age` = ttlS from their last
   * write, so a held session that is only read is rewritten before that (see `sweepIdle`).
   */
  storedAt = Date.now();
  /** Durable writes of this session, one after the other (shared calls may set concurrently). */
  writes: Promise<unknown> = Promise.resolve();
  private readonly queue: SessionCall[] = [];
  private head = 0;
  private exclusive = false;
  private sharedRunning = 0;
  private idleWaiters: (() => void)[] = [];
  /** What encode errors call the value (built on first use, not on every `set()`). */
  private what: string | undefined;

  constructor(
    readonly sessionId: string,
    private readonly maxBytes: number,
    /** Told of every refused `set()` (metrics). */
    private readonly refused: (why: "too-large" | "unencodable") => void = () => {},
  ) {}

  get lost(): boolean {
    return this.origin === "lost";
  }

  get(): unknown {
    return this.value;
  }

  set(value: unknown): void {
    // Encoded now, so a bad value fails in the call that set it (naming the path) and the
    // previous state stays as it was.
    let bytes: Uint8Array;
    try {
      bytes = encode(
        value,
        (this.what ??= `session state of ${JSON.stringify(this.sessionId.slice(0, 80))}`),
      );
    } catch (e) {
      this.refused("unencodable");
      throw e;
    }
    if (bytes.length > this.maxBytes) {
      this.refused("too-large");
      throw new SessionStateError(
        `session state of ${JSON.stringify(this.sessionId.slice(0, 80))} is ${bytes.length} bytes encoded, over sessionState.maxBytes (${this.maxBytes}); the previous state is kept`,
        { data: { reason: "too-large", bytes: bytes.length, maxBytes: this.maxBytes } },
      );
    }
    this.value = value;
    this.bytes = bytes;
    this.dirty = true;
  }

  delete(): void {
    this.value = undefined;
    this.bytes = null;
    this.dirty = true;
  }

  /** Calls queued or running. */
  get busy(): boolean {
    return this.exclusive || this.sharedRunning > 0 || this.head < this.queue.length;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  enqueue(call: SessionCall): void {
    this.queue.push(call);
  }

  /**
   * The next call that may start now (marked running), or undefined: none is queued, the session
   * is still ACQUIRING, or the calls running exclude it. One at a time so that the hot path
   * allocates nothing per call.
   */
  takeNext(): SessionCall | undefined {
    if (this.status === SlotStatus.ACQUIRING || this.exclusive || this.head === this.queue.length)
      return undefined;
    const next = this.queue[this.head]!;
    if (!next.shared && this.sharedRunning > 0) return undefined;
    this.queue[this.head++] = undefined as unknown as SessionCall;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    if (next.shared) this.sharedRunning++;
    else this.exclusive = true;
    return next;
  }

  /** One running call ended. */
  ended(shared: boolean): void {
    if (shared) this.sharedRunning--;
    else this.exclusive = false;
    this.lastUsed = Date.now();
    if (!this.busy && this.idleWaiters.length > 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Removes and returns every queued call (not the running ones): a failed acquisition. */
  drainQueue(): SessionCall[] {
    const out = this.queue.slice(this.head);
    this.queue.length = 0;
    this.head = 0;
    return out;
  }

  /** Resolves when no call is queued or running. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}
