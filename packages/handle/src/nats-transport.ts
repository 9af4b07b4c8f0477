import { createInbox, type Msg, type NatsConnection, type Subscription } from "nats";
import {
  decodeReply,
  encodeStreamCancel,
  errorToWire,
  probeSubject,
  ReplyKind,
  requestSubject,
  WriteCoalescer,
  type Reply,
} from "@tsserve/protocol/internal";
import { PayloadTooLargeError, ProtocolError } from "@tsserve/protocol";
import {
  NO_RESPONDERS,
  type DeploymentTransport,
  type Exchange,
  type ProbeResult,
  type ReplyTarget,
} from "./replica-transport.js";
import { ReplySlotTable, seqOf } from "./reply-slot-table.js";
import { StreamCredit } from "./stream-credit.js";

const EMPTY = new Uint8Array(0);

// One open reply subject. Kept as a small class so an in-flight request costs one object, and the
// object doubles as the Exchange handed back to the caller.
class Slot implements Exchange {
  /** A stream's flow control, from its STREAM_START on. */
  credit: StreamCredit | null = null;
  constructor(
    private readonly owner: NatsTransport,
    /** Its reply subject is `<inbox>.<seq>`. */
    readonly seq: number,
    readonly target: ReplyTarget,
  ) {}
  close(): void {
    // A stream closed before its end (cancelled, timed out, client closed) tells its replica.
    this.credit?.close();
    this.owner.release(this);
  }
}

function isNoResponders(msg: Msg): boolean {
  // The server answers a publish with a reply subject and no subscribers with an empty
  // status message carrying code 503 on that reply subject.
  return msg.data.length === 0 && msg.headers !== undefined && msg.headers.code === 503;
}

/** The inbox prefix a connection was opened with (nats.js keeps it on the connection's options). */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const prefix = (nc as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === "string" && prefix.length > 0 ? prefix : undefined;
}

/**
 * The client's data-plane transport: ONE wildcard inbox subscription (`_INBOX.<nuid>.*`) carries the
 * replies of every request, stream and probe (under the connection's inbox prefix). Each exchange gets reply subject `<inbox>.<n>` and a
 * map entry, so a request costs a publish and a map insert, not a subscription.
 */
export class NatsTransport {
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly slots = new ReplySlotTable<Slot>();
  /** Where a reply subject's number starts (after `<inbox>.`). */
  private readonly seqStart: number;
  private next = 0;
  /** Inside the inbox callback: a send now is a freed slot's next call, flushed `soon`. */
  private inReply = false;
  /** One write system call per event-loop turn for every request published in it. */
  private readonly writes: WriteCoalescer;

  constructor(private readonly nc: NatsConnection) {
    this.writes = new WriteCoalescer(nc);
    // The connection's inbox prefix (ConnectionOptions.inboxPrefix), as nc.request() uses: a
    // least-privilege user may subscribe only to replies under its own prefix, not `_INBOX.>`.
    this.inbox = createInbox(inboxPrefixOf(nc));
    this.seqStart = this.inbox.length + 1;
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        this.inReply = true;
        try {
          this.dispatch(msg);
        } finally {
          this.inReply = false;
        }
      },
    });
  }

  /** A transport view bound to one deployment (subjects are built once per replica). */
  forDeployment(prefix: string, app: string, deployment: string): DeploymentTransport {
    const reqSubjects = new Map<string, string>();
    const probeSubjects = new Map<string, string>();
    return {
      probe: (replicaId, deadlineMs) => {
        let s = probeSubjects.get(replicaId);
        if (s === undefined)
          probeSubjects.set(replicaId, (s = probeSubject(prefix, app, deployment, replicaId)));
        return this.probe(s, deadlineMs);
      },
      send: (replicaId, body, target) => {
        let s = reqSubjects.get(replicaId);
        if (s === undefined)
          reqSubjects.set(replicaId, (s = requestSubject(prefix, app, deployment, replicaId)));
        return this.send(s, body, target);
      },
    };
  }

  /** Publishes `body` to `subject` with a fresh reply subject routed to `target`. */
  send(subject: string, body: Uint8Array, target: ReplyTarget): Exchange {
    const seq = this.next++;
    const slot = new Slot(this, seq, target);
    this.slots.add(slot);
    try {
      this.writes.beforePublish(this.inReply);
      this.nc.publish(subject, body, { reply: `${this.inbox}.${seq}` });
    } catch (e) {
      // Closed or draining connection, or payload too large: report it as this request's error.
      this.slots.delete(slot);
      const error =
        (e as { code?: unknown }).code === "MAX_PAYLOAD_EXCEEDED"
          ? new PayloadTooLargeError(
              `request body of ${body.length} bytes exceeds the NATS server's max_payload (${this.nc.info?.max_payload ?? "unknown"} bytes)`,
            )
          : e;
      queueMicrotask(() =>
        target.onReply({ kind: ReplyKind.ERROR, queueLen: -1, error: errorToWire(error) }),
      );
    }
    return slot;
  }

  /** Asks `subject` for a queue length; resolves null after `deadlineMs`. */
  probe(subject: string, deadlineMs: number): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const exchange = this.send(subject, EMPTY, {
        onReply(reply) {
          clearTimeout(timer);
          exchange.close();
          if (reply === null) resolve(NO_RESPONDERS);
          else resolve(reply.kind === ReplyKind.ERROR || reply.queueLen < 0 ? null : reply.queueLen);
        },
      });
      timer = setTimeout(() => {
        exchange.close();
        resolve(null);
      }, deadlineMs);
      timer.unref();
    });
  }

  /** Stops delivery to one exchange's reply subject. */
  release(slot: Slot): void {
    this.slots.delete(slot);
  }

  /** Exchanges still open (for tests and leak checks). */
  get openExchanges(): number {
    return this.slots.size;
  }

  /** Unsubscribes the inbox; open exchanges get no more replies (open streams are cancelled). */
  close(): void {
    for (const slot of this.slots.values()) slot.credit?.close();
    this.slots.clear();
    if (!this.nc.isClosed()) this.sub.unsubscribe();
  }

  /** A STREAM_START for an exchange closed before it arrived: CANCEL it, or it holds a replica slot. */
  private cancelOrphanStream(msg: Msg): void {
    try {
      const reply = decodeReply(msg.data);
      if (reply.kind === ReplyKind.STREAM_START && reply.flow !== undefined)
        this.nc.publish(reply.flow.creditSubject, encodeStreamCancel());
    } catch {
      // Unreadable or the connection closed: the replica's credit timeout ends the stream.
    }
  }

  private dispatch(msg: Msg): void {
    const slot = this.slots.get(seqOf(msg.subject, this.seqStart));
    if (slot === undefined) {
      // Cancelled or timed out meanwhile. A stream that started only now must still be stopped.
      if (msg.data[0] === 0x93 && msg.data[1] === ReplyKind.STREAM_START) this.cancelOrphanStream(msg);
      return;
    }
    if (isNoResponders(msg)) {
      slot.target.onReply(null);
      return;
    }
    let reply: Reply;
    try {
      reply = decodeReply(msg.data);
    } catch (e) {
      const error = e instanceof ProtocolError ? e : new ProtocolError(String(e));
      reply = { kind: ReplyKind.ERROR, queueLen: -1, error: errorToWire(error) };
    }
    const kind = reply.kind;
    if (kind === ReplyKind.CHUNK) slot.credit?.arrived(msg.data.length);
    else if (kind === ReplyKind.STREAM_START) {
      if (reply.flow !== undefined && slot.credit === null) {
        slot.credit = new StreamCredit(this.nc, reply.flow);
        slot.target.onStreamCredit?.(slot.credit);
      }
    } else if (kind === ReplyKind.STREAM_END) slot.credit?.ended();
    // From the replica an ERROR ends the stream; an unreadable reply (queueLen -1) does not: the
    // exchange's close then cancels the stream at the replica.
    else if (kind === ReplyKind.ERROR && reply.queueLen >= 0) slot.credit?.ended();
    slot.target.onReply(reply);
  }
}
