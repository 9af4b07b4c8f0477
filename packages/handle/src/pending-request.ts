import type { HttpRequestInfo, ReplicaInfo } from "@tsserve/protocol";
import type { Reply } from "@tsserve/protocol/internal";
import type { Indexed, WaitTicket } from "./dispatch/wait-index.js";
import type { Queued } from "./dispatch/wait-queue.js";
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

/** Lifecycle of a pending request: waiting for a slot, sent to a replica, or done. */
export const RequestState = { WAITING: 0, SENT: 1, DONE: 2 } as const;
export type RequestState = (typeof RequestState)[keyof typeof RequestState];

let arrivals = 0;

/** The owner that interprets replies (the deployment's dispatcher). */
export interface ReplyHandler {
  handleReply(request: PendingRequest, reply: Reply | null): void;
}

/**
 * One call from `remote()` until it is fulfilled or cancelled. It is its own RoutingRequest,
 * RequestMessage (for encoding), ReplyTarget and wait-queue entry, so a call allocates this
 * object, its encoded body and its ranked groups, and little else.
 */
export class PendingRequest
  implements RoutingRequest, ReplyTarget, Queued<PendingRequest>, Indexed<PendingRequest>
{
  state: RequestState = RequestState.WAITING;
  /** Creation order over every request of the process (so over each dispatcher's, with `createdAt`). */
  readonly arrival = ++arrivals;
  /** Handles ask replicas to acknowledge calls still running (RequestMessage.acks). */
  readonly acks = true;
  /** The HTTP request behind the call (RequestMessage.http), when the proxy made it. */
  http: HttpRequestInfo | undefined = undefined;
  /** The ingress JSON fast path (RequestMessage.json). */
  json = false;
  /** RoutingRequest.prefixKey (`options({ prefixKey })`). */
  prefixKey: string | null = null;
  /** RoutingRequest.multiplexedModelId (`options({ multiplexedModelId })`), also sent to the replica. */
  multiplexedModelId: string | undefined = undefined;
  /** Replica the request is (or was last) sent to. */
  replicaId: string | null = null;
  /** Rank of the router group the replica came from (0 = first choice). */
  rank = 0;
  /** A replica accepted it (onRequestRouted was called); set once. */
  accepted = false;
  /** The replica has it: it acknowledged it (ACCEPTED), started a stream or answered. */
  acked = false;
  /** Times this call was sent again after its replica died while running it. */
  retries = 0;
  /** Backoff before such a retry. */
  retryTimer: NodeJS.Timeout | null = null;
  /** It holds a slot in the dispatcher's in-flight count (sent and not yet answered or abandoned). */
  holdsSlot = false;
  /** `performance.now()` of the last send. */
  sentAt = 0;
  exchange: Exchange | null = null;
  /** Encoded once, reused by retries. */
  body: Uint8Array | null = null;
  timer: NodeJS.Timeout | null = null;
  /** The caller's timeout, for the error message; 0 = none. */
  timeoutMs = 0;
  abortListener: (() => void) | null = null;
  /** The router's ranked groups, valid while `groupsVersion` equals the replica set's version. */
  groups: ReplicaInfo[][] | null = null;
  groupsVersion = -1;
  /** When the first group's patience ends (`performance.now()` time); 0 = no patience pending. */
  spillAt = 0;
  /** Waiting for probe answers before it chooses among its group (skipped by slot hand-offs). */
  probing = false;
  /** @internal Its entry in the owner-patience FIFO (see OwnerPatience), or -1. */
  patienceAt = -1;
  /** @internal Its place among the dispatcher's live calls (see LiveCalls), or -1. */
  liveAt = -1;
  /** Owner patience is over (or never applied): every group may take the request. */
  patienceOver = false;
  /** @internal wait-queue links */
  qPrev: PendingRequest | null = null;
  /** @internal */
  qNext: PendingRequest | null = null;
  /** @internal */
  qIn = false;
  /** @internal per-replica wait-list tickets */
  waitTickets: WaitTicket<PendingRequest> | null = null;

  constructor(
    /** The client's part of the request id. */
    private readonly idPrefix: string,
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

  /**
   * Unique over every client: the client's prefix and the call's arrival number in base 36. Made
   * when asked (encoding, error messages) rather than kept: a waiting call then holds no strings of
   * its own, which were ~80 B of what each one kept alive (and V8 copied when it was promoted).
   */
  get requestId(): string {
    return this.idPrefix + this.arrival.toString(36);
  }

  get done(): boolean {
    return this.state === RequestState.DONE;
  }
}
