import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  decodeControllerReply,
  decodeStatusReport,
  encode,
  errorFromWire,
} from "@tsserve/protocol/internal";
import { UnavailableError, type ApplicationStatusReport, type StatusReport } from "@tsserve/protocol";
import { RouteTable } from "./route-table.js";

/** Deadline of one `ctl.status` request; the poll after it tries again. */
export const STATUS_TIMEOUT_MS = 2000;

/** One NATS request/reply, as the proxy needs it (kept narrow so the poller does not own a connection). */
export type NatsRequester = (subject: string, body: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;

/** Options of {@link RoutePoller}. */
export interface RoutePollerOptions {
  /** Sends one request and resolves with the reply body. */
  request: NatsRequester;
  /** Subject prefix of the cluster. */
  prefix: string;
  /** Poll period. */
  refreshMs: number;
  /** Called with each successful report's applications (the proxy feeds the replicas gauge). */
  onStatus?: (apps: readonly ApplicationStatusReport[]) => void;
  /**
   * Called after each successful poll with the table before it: the same object when nothing
   * changed (the proxy logs route changes and the end of a controller outage).
   */
  onRoutes?: (table: RouteTable, previous: RouteTable) => void;
  /** Called after each failed poll with `lastError` and the table still in use. */
  onFailure?: (error: Error, table: RouteTable) => void;
}

/**
 * Keeps the route table in step with the controller by polling `<prefix>.ctl.status`. The controller
 * is not on the request path: while it is unreachable the last table stays in use, and `lastError`
 * says why it is stale.
 */
export class RoutePoller {
  private current = new RouteTable();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private readonly subject: string;
  /** Why the last poll failed, or undefined after a successful one. */
  lastError: Error | undefined;
  /** Epoch ms of the last successful poll (0 = never). */
  lastSuccessAt = 0;

  constructor(private readonly options: RoutePollerOptions) {
    this.subject = controllerSubject(options.prefix, CONTROLLER_OPS.status);
  }

  /** The table in use right now. */
  get table(): RouteTable {
    return this.current;
  }

  /** Polls once now, then every `refreshMs` until {@link stop}. Resolves after the first poll (failed or not). */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** One poll; never throws (a failure is kept in `lastError`). Concurrent calls share one request. */
  refresh(): Promise<void> {
    this.inFlight ??= this.poll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    // A timeout chained after each poll (not an interval): a slow controller never gets overlapping polls.
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule());
    }, this.options.refreshMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let reply: unknown;
    try {
      const bytes = await this.options.request(this.subject, encode({}), STATUS_TIMEOUT_MS);
      reply = decode(bytes);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      this.fail(
        new UnavailableError(`controller status request on ${this.subject} failed: ${why}`, { cause }),
      );
      return;
    }
    let status: StatusReport;
    try {
      const r = decodeControllerReply(this.subject, reply);
      if (!r.ok) {
        this.fail(errorFromWire(r.error));
        return;
      }
      status = decodeStatusReport(r.value);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      this.fail(
        new UnavailableError(`controller sent a malformed status reply on ${this.subject}: ${why}`, {
          cause,
        }),
      );
      return;
    }
    const previous = this.current;
    const next = RouteTable.fromApplications(status.applications);
    // Keep the old object when nothing changed, so readers comparing tables see stability.
    if (!next.equals(previous)) this.current = next;
    this.lastError = undefined;
    this.lastSuccessAt = Date.now();
    try {
      this.options.onStatus?.(status.applications);
    } catch {
      // Metrics must never break routing; a bad report shape only costs the gauge.
    }
    try {
      this.options.onRoutes?.(this.current, previous);
    } catch {
      // Nor must logging.
    }
  }

  private fail(error: Error): void {
    this.lastError = error;
    try {
      this.options.onFailure?.(error, this.current);
    } catch {
      // Logging must never break routing.
    }
  }
}
