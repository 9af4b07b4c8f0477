import type { NatsConnection } from "nats";

/** The part of a Node socket the coalescer uses. */
interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/**
 * Sends the NATS writes of one event-loop turn in one system call. nats.js flushes its outbound
 * buffer in a microtask after a publish, so a process that publishes from many separate I/O
 * callbacks in one turn (the HTTP proxy: one per client connection's request) pays a write system
 * call per message: profiling the proxy at 64 connections put a third of its CPU there. Corking
 * the connection's socket at the first publish of a turn and uncorking it in `setImmediate` (after
 * this turn's I/O callbacks) sends them all in one `writev`; the delay is the rest of the turn.
 *
 * A publish made while handling a reply (the handle hands a freed slot to the next waiting call)
 * passes `soon`: at the defaults the replicas' few slots are the bottleneck, and holding the next
 * call until the turn's end left them idle while the proxy parsed its other connections' requests
 * (measured: HTTP at the defaults 10–12 % faster with `soon`, 1.0× the bare bridge instead of 0.9×).
 *
 * It reaches into nats.js's private transport (`nc.protocol.transport.socket`, nats.js 2.29's Node
 * transport). Where that is not found (another transport, a future nats.js), it does nothing and
 * every write goes out as nats.js sends it.
 */
export class WriteCoalescer {
  private corked: Corkable | null = null;
  private readonly release = (): void => {
    const socket = this.corked;
    this.corked = null;
    socket?.uncork();
  };

  constructor(private readonly nc: NatsConnection) {}

  private releaseQueued = false;
  private readonly releaseNow = (): void => {
    this.releaseQueued = false;
    this.release();
  };

  /**
   * Call before each publish: the first one of a turn corks the socket until the turn's end. With
   * `soon`, the writes go out once the current callback and its microtasks are done instead, still
   * together, but ahead of the turn's other I/O callbacks.
   */
  beforePublish(soon = false): void {
    // Nothing corked and the writes are due soon anyway: nats.js already sends every publish of
    // this callback in one write from its own microtask, so a cork here would be undone before
    // that write (the uncork's microtask runs first) and only cost a cork, an uncork, a
    // setImmediate and a microtask per reply batch.
    if (soon && this.corked === null) return;
    if (this.corked === null) {
      const socket = socketOf(this.nc);
      if (socket === undefined) return;
      socket.cork();
      this.corked = socket;
      setImmediate(this.release);
    }
    if (soon && !this.releaseQueued) {
      this.releaseQueued = true;
      queueMicrotask(this.releaseNow);
    }
  }
}

function socketOf(nc: NatsConnection): Corkable | undefined {
  const socket = (nc as { protocol?: { transport?: { socket?: unknown } } }).protocol?.transport?.socket as
    Partial<Corkable> | undefined;
  if (socket === undefined || socket === null || typeof socket.cork !== "function") return undefined;
  if (typeof socket.uncork !== "function" || socket.destroyed === true) return undefined;
  return socket as Corkable;
}
