import { createInbox, type Msg, type NatsConnection, type NatsError } from "nats";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import type { Mode } from "./interleaved-runs.js";

/** Options of {@link rawDispatcherMode}. */
export interface RawDispatcherOptions {
  /** Calls in flight per responder at most; the rest wait in one FIFO. @default Infinity (uncapped) */
  perResponder?: number;
  /** Arguments of every call (encoded in each request, as a handle does). @default [] */
  args?: unknown[];
  /** @default "dispatcher uncapped" or "dispatcher capped (FIFO, k/replica)" */
  name?: string;
}

/** A {@link Mode} that also tells the most calls it ever had in flight per responder (for tests). */
export interface RawDispatcherMode extends Mode {
  readonly peakInFlight: readonly number[];
}

interface Call {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  target: number;
  /** Its reply subject is `<inbox>.<id>`. */
  id: number;
}

/**
 * The limit of a dispatching client on raw NATS, written by hand: what a handle does minus the
 * envelope, the router and the bookkeeping. Each responder listens on its own subject (`subjects`,
 * the replicas' request subjects); the client keeps one wildcard inbox subscription and publishes
 * each call with a reply subject (no per-call timer, promise chain or subscription); a call goes to
 * the responder with the fewest calls in flight (ties rotate); with a cap, calls beyond it wait in
 * one FIFO and each reply's freed slot goes straight to the oldest waiting call. The request is the
 * same valid msgpack message a handle sends (a fresh request id per call), so a replica does
 * exactly the work of a handle's call.
 */
export function rawDispatcherMode(
  nc: NatsConnection,
  subjects: readonly string[],
  opts: RawDispatcherOptions = {},
): RawDispatcherMode {
  const cap = opts.perResponder ?? Number.POSITIVE_INFINITY;
  const args = opts.args ?? [];
  const n = subjects.length;
  const inFlight = new Array<number>(n).fill(0);
  const peak = new Array<number>(n).fill(0);
  const inbox = createInbox();
  const idStart = inbox.length + 1;
  // Calls in flight by id, in a ring indexed by id modulo its size (doubled when an id's place is
  // still taken). Not a Map keyed by reply subject: a Map churned once per call makes V8 promote
  // every call it held (see the handle's LiveCalls), which cost this limit ~200 promoted bytes
  // and a third more scavenge time per call.
  let open: (Call | undefined)[] = new Array<Call | undefined>(256);
  const place = (c: Call): void => {
    while (open[c.id & (open.length - 1)] !== undefined) {
      const old = open;
      open = new Array<Call | undefined>(old.length * 2);
      for (const o of old) if (o !== undefined) open[o.id & (open.length - 1)] = o;
    }
    open[c.id & (open.length - 1)] = c;
  };
  let queue: (Call | undefined)[] = [];
  let head = 0;
  let seq = 0;
  let rotate = 0;

  const send = (c: Call, target: number): void => {
    c.target = target;
    const k = ++inFlight[target]!;
    if (k > peak[target]!) peak[target] = k;
    const id = ++seq;
    const reply = `${inbox}.${id}`;
    c.id = id;
    place(c);
    const body = encodeRequest({
      requestId: `d-${id}`,
      method: "__call__",
      args,
      sessionId: null,
      stream: false,
    });
    nc.publish(subjects[target]!, body, { reply });
  };

  /** The responder with the fewest calls in flight below the cap, or -1 when all are full. */
  const leastLoaded = (): number => {
    let best = -1;
    let bestN = cap;
    for (let k = 0; k < n; k++) {
      const r = (rotate + k) % n;
      if (inFlight[r]! < bestN) {
        best = r;
        bestN = inFlight[r]!;
      }
    }
    if (best >= 0) rotate = best + 1;
    return best;
  };

  nc.subscribe(`${inbox}.*`, {
    callback: (err: NatsError | null, msg: Msg) => {
      const id = Number(msg.subject.slice(idStart));
      const at = id & (open.length - 1);
      const c = open[at];
      if (c === undefined || c.id !== id) return;
      open[at] = undefined;
      inFlight[c.target]!--;
      if (head < queue.length) {
        const w = queue[head]!;
        queue[head++] = undefined;
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        send(w, c.target);
      }
      if (err) return c.reject(err);
      try {
        const r = decodeReply(msg.data);
        if (r.kind !== ReplyKind.OK) throw new Error(`raw dispatcher call got reply kind ${r.kind}`);
        c.resolve(r.value);
      } catch (e) {
        c.reject(e);
      }
    },
  });

  const capped = Number.isFinite(cap);
  return {
    name: opts.name ?? (capped ? `dispatcher capped (FIFO, ${cap}/replica)` : "dispatcher uncapped"),
    peakInFlight: peak,
    call: () =>
      new Promise((resolve, reject) => {
        const c: Call = { resolve, reject, target: -1, id: 0 };
        const r = leastLoaded();
        if (r < 0) queue.push(c);
        else send(c, r);
      }),
  };
}
