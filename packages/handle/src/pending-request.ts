import type { Reply } from "@tsserve/protocol";
import type { RoutingRequest } from "./request-router.js";
import type { ConsumerCredit, Exchange, ReplyTarget } from "./replica-transport.js";

/** Where a request's outcome goes: a DeploymentResponse (unary) or a response stream. */
export interface ResultSink {
  /** The unary value, or the end of a stream (`value` undefined). */
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** One stream chunk. */
  chunk(value: unknown): void;
  /** A stream with flow control started: report consumed chunks to `credit`. */
  attachCredit?(credit: ConsumerCredit): void;
}

/** Lifecycle of a pending request. */
export const RequestState = { ROUTING: 0, SENT: 1, DONE: 2 } as const;
export type RequestState = (typeof RequestState)[keyof typeof RequestState];

/** What the routing loop learns after a send. */
export const SendOutcome = { ACCEPTED: 0, RETRY: 1 } as const;
export type SendOutcome = (typeof SendOutcome)[keyof typeof SendOutcome];

/** The owner that interprets replies (the deployment router). */
export interface ReplyHandler {
  handleReply(request: PendingRequest, reply: Reply | null): void;
}

/**
 * One call from `remote()` until it is fulfilled or cancelled. It is its own RoutingRequest,
 * RequestMessage (for encoding) and ReplyTarget, so a call allocates this object, its encoded body
 * and little else.
 */
export class PendingRequest implements RoutingRequest, ReplyTarget {
  state: RequestState = RequestState.ROUTING;
  /** Replica the request is (or was last) sent to. */
  replicaId: string | null = null;
  /** Rank of the router group the replica came from. */
  rank = 0;
  /** A replica accepted it (onRequestRouted was called); set once. */
  accepted = false;
  /** `performance.now()` of the last send. */
  sentAt = 0;
  exchange: Exchange | null = null;
  /** Encoded once, reused by retries. */
  body: Uint8Array | null = null;
  timer: NodeJS.Timeout | null = null;
  /** The caller's timeout, for the error message; 0 = none. */
  timeoutMs = 0;
  abortListener: (() => void) | null = null;
  private outcomeResolve: ((o: SendOutcome) => void) | null = null;
  private doneResolve: (() => void) | null = null;
  private donePromise: Promise<void> | null = null;

  constructor(
    readonly requestId: string,
    readonly method: string,
    readonly args: unknown[],
    readonly sessionId: string | null,
    readonly stream: boolean,
    readonly createdAt: number,
    readonly sink: ResultSink,
    private readonly handler: ReplyHandler,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** ReplyTarget: the transport delivers replies here. */
  onReply(reply: Reply | null): void {
    this.handler.handleReply(this, reply);
  }

  /** ReplyTarget: a stream with flow control started; its sink reports consumption. */
  onStreamCredit(credit: ConsumerCredit): void {
    this.sink.attachCredit?.(credit);
  }

  /** A promise the routing loop awaits after a send; settled by {@link settleOutcome}. */
  awaitOutcome(): Promise<SendOutcome> {
    return new Promise<SendOutcome>((resolve) => (this.outcomeResolve = resolve));
  }

  /** Tells a waiting routing loop what happened to the send. */
  settleOutcome(outcome: SendOutcome): void {
    const r = this.outcomeResolve;
    this.outcomeResolve = null;
    r?.(outcome);
  }

  /**
   * Resolves with `p` or as soon as the request is done (cancelled, timed out), whichever is first,
   * so that a cancelled request's loop wakes at once instead of finishing a probe or a sleep.
   */
  race<T>(p: Promise<T>): Promise<T | undefined> {
    if (this.state === RequestState.DONE) return Promise.resolve(undefined);
    this.donePromise ??= new Promise<void>((r) => (this.doneResolve = r));
    return Promise.race([p, this.donePromise as Promise<undefined>]);
  }

  /** Marks the request done and wakes everything waiting on it. */
  markDone(): void {
    this.state = RequestState.DONE;
    this.doneResolve?.();
    this.doneResolve = null;
    this.settleOutcome(SendOutcome.ACCEPTED);
  }

  get done(): boolean {
    return this.state === RequestState.DONE;
  }
}
