import type { Msg, NatsError } from "nats";
import {
  creditSubject,
  CreditKind,
  decodeCredit,
  DEFAULT_STREAM_CREDIT_TIMEOUT_MS,
  DEFAULT_STREAM_WINDOW_BYTES,
  DEFAULT_STREAM_WINDOW_CHUNKS,
  type StreamFlow,
} from "@tsserve/protocol/internal";

/** How waiting for credit ended. */
export const CreditWait = { GRANTED: 0, CANCELLED: 1, TIMED_OUT: 2 } as const;
export type CreditWait = (typeof CreditWait)[keyof typeof CreditWait];

/** Where a replica's streams take their credit subjects and window. */
export interface StreamCreditsOptions {
  prefix: string;
  app: string;
  deployment: string;
  replicaId: string;
  /** @default DEFAULT_STREAM_WINDOW_CHUNKS */
  windowChunks?: number;
  /** @default DEFAULT_STREAM_WINDOW_BYTES */
  windowBytes?: number;
  /** @default DEFAULT_STREAM_CREDIT_TIMEOUT_MS */
  creditTimeoutMs?: number;
}

/**
 * The send window of one stream: chunks and bytes sent beyond the consumer's cumulative credit.
 * The replica sends while both are under the window and otherwise waits for credit.
 */
export class StreamWindow {
  private sentChunks = 0;
  private sentBytes = 0;
  private ackedChunks = 0;
  private ackedBytes = 0;
  private lastHeardAt = Date.now();
  private wake: (() => void) | null = null;
  /** The consumer said it is gone (cancelled, timed out, closed). */
  cancelled = false;

  constructor(
    readonly token: string,
    readonly flow: StreamFlow,
  ) {}

  /** Counts one chunk of `bytes` encoded bytes sent. */
  sent(bytes: number): void {
    this.sentChunks++;
    this.sentBytes += bytes;
  }

  /** True while the window has room for another chunk. */
  get open(): boolean {
    return (
      this.sentChunks - this.ackedChunks < this.flow.windowChunks &&
      this.sentBytes - this.ackedBytes < this.flow.windowBytes
    );
  }

  /** A cumulative grant (or keepalive). Capped at what was sent: credit cannot run ahead of data. */
  grant(chunks: number, bytes: number): void {
    this.lastHeardAt = Date.now();
    this.ackedChunks = Math.max(this.ackedChunks, Math.min(chunks, this.sentChunks));
    this.ackedBytes = Math.max(this.ackedBytes, Math.min(bytes, this.sentBytes));
    this.poke();
  }

  cancel(): void {
    this.cancelled = true;
    this.poke();
  }

  /**
   * Waits until the window opens, the consumer cancels, or nothing (credit or keepalive) was heard
   * from it for `creditTimeoutMs`: then the consumer is gone and the stream must end.
   */
  async waitForCredit(): Promise<CreditWait> {
    while (!this.cancelled && !this.open) {
      const silentMs = Date.now() - this.lastHeardAt;
      if (silentMs >= this.flow.creditTimeoutMs) return CreditWait.TIMED_OUT;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, this.flow.creditTimeoutMs - silentMs);
      });
      clearTimeout(timer);
      this.wake = null;
    }
    return this.cancelled ? CreditWait.CANCELLED : CreditWait.GRANTED;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/**
 * The credit side of every stream one replica serves: one wildcard subscription
 * (`credit.<app>.<deployment>.<replica>.*`, callback {@link onCredit}) and one window per open stream.
 */
export class StreamCredits {
  private readonly windows = new Map<string, StreamWindow>();
  private next = 0;
  private readonly windowChunks: number;
  private readonly windowBytes: number;
  private readonly creditTimeoutMs: number;
  /** Credit messages that could not be decoded (reported with the request server's count). */
  rejectedMessages = 0;

  constructor(private readonly o: StreamCreditsOptions) {
    this.windowChunks = o.windowChunks ?? DEFAULT_STREAM_WINDOW_CHUNKS;
    this.windowBytes = o.windowBytes ?? DEFAULT_STREAM_WINDOW_BYTES;
    this.creditTimeoutMs = o.creditTimeoutMs ?? DEFAULT_STREAM_CREDIT_TIMEOUT_MS;
  }

  /** A window for a new stream, with its own credit subject. */
  open(): StreamWindow {
    const token = (this.next++).toString(36);
    const w = new StreamWindow(token, {
      creditSubject: creditSubject(this.o.prefix, this.o.app, this.o.deployment, this.o.replicaId, token),
      windowChunks: this.windowChunks,
      windowBytes: this.windowBytes,
      creditTimeoutMs: this.creditTimeoutMs,
    });
    this.windows.set(token, w);
    return w;
  }

  /** Forgets a finished stream; later credit for it is ignored. */
  close(w: StreamWindow): void {
    this.windows.delete(w.token);
  }

  /** Streams open now (for tests and leak checks). */
  get openStreams(): number {
    return this.windows.size;
  }

  /** Subscription callback for the credit pattern. */
  readonly onCredit = (err: NatsError | null, msg: Msg): void => {
    if (err !== null) return;
    const w = this.windows.get(msg.subject.slice(msg.subject.lastIndexOf(".") + 1));
    if (w === undefined) return; // the stream ended meanwhile
    let credit;
    try {
      credit = decodeCredit(msg.data);
    } catch {
      this.rejectedMessages++;
      return;
    }
    if (credit.kind === CreditKind.CANCEL) w.cancel();
    else w.grant(credit.chunks, credit.bytes);
  };
}
