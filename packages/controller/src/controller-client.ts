import { ErrorCode, NatsError, type NatsConnection } from "nats";
import {
  CONTROLLER_OPS,
  DEFAULT_PREFIX,
  connectNats,
  controllerSubject,
  decode,
  decodeControllerReply,
  decodeStatusReport,
  encode,
  errorFromWire,
  validatePrefix,
  type DeployRequest,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import { UnavailableError, isConfigError, type StatusReport } from "@tsserve/protocol";

/** Default deadline of one controller request. */
export const DEFAULT_CONTROLLER_TIMEOUT_MS = 5000;
/** Default deadline of the NATS connect in {@link ControllerClient.connect}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/** Options of a {@link ControllerClient}. */
export interface ControllerClientOptions {
  /** Subject prefix of the tsserve cluster. @default DEFAULT_PREFIX ("tsserve") */
  prefix?: string;
  /** Deadline of each request, in ms. @default DEFAULT_CONTROLLER_TIMEOUT_MS */
  timeoutMs?: number;
  /** The address shown in "no controller" errors. @default the connection's current server */
  address?: string;
}

/** Options of {@link ControllerClient.connect}. */
export interface ControllerConnectOptions extends ControllerClientOptions {
  /** NATS server URL(s), comma-separated. */
  address: string;
  /** Deadline of the NATS connect, in ms. @default DEFAULT_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number;
}

/**
 * Talks to the controller over `ctl.<op>` request/reply (msgpack). Errors the controller returns
 * become their typed classes; a missing controller becomes an {@link UnavailableError}.
 * Used by the CLI, tests and benches.
 */
export class ControllerClient implements AsyncDisposable {
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly address: string;

  /** Wraps a connection the caller owns; {@link close} leaves it open. */
  constructor(
    private readonly nc: NatsConnection,
    options: ControllerClientOptions = {},
    private readonly ownsConnection = false,
  ) {
    this.prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CONTROLLER_TIMEOUT_MS;
    this.address = options.address ?? nc.getServer();
  }

  /** Opens its own NATS connection; {@link close} closes it. */
  static async connect(options: ControllerConnectOptions): Promise<ControllerClient> {
    let nc: NatsConnection;
    try {
      nc = await connectNats({
        address: options.address,
        name: "tsserve-controller-client",
        timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        // A command-line client gives up rather than waiting for a cluster that may never come.
        maxReconnectAttempts: 10,
      });
    } catch (e) {
      if (isConfigError(e)) throw e;
      const cause = (e as Error).cause ?? e;
      throw new UnavailableError(
        `cannot reach NATS at ${options.address}: ${(cause as Error).message}; start a cluster with \`tsserve start\``,
        { cause },
      );
    }
    return new ControllerClient(nc, options, true);
  }

  /** Upserts the listed applications (idempotent). */
  async deploy(request: DeployRequest): Promise<void> {
    await this.call(CONTROLLER_OPS.deploy, request);
  }

  /** Drains and removes an application. */
  async delete(app: string): Promise<void> {
    await this.call(CONTROLLER_OPS.delete, { app });
  }

  /** Applications, deployments, replicas and nodes as the controller sees them. */
  async status(): Promise<StatusReport> {
    return decodeStatusReport(await this.call(CONTROLLER_OPS.status, {}));
  }

  /** The RUNNING set of one deployment; DeploymentNotFoundError when unknown. */
  async members(app: string, deployment: string): Promise<MembershipSnapshot> {
    return (await this.call(CONTROLLER_OPS.members, { app, deployment })) as MembershipSnapshot;
  }

  /** Asks the controller to drain every application, stop the agents and exit. */
  async shutdown(): Promise<void> {
    await this.call(CONTROLLER_OPS.shutdown, {});
  }

  /** Closes the connection if this client opened it. */
  async close(): Promise<void> {
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** One request: the reply's value, or the typed error it carries. */
  private async call(op: string, body: unknown, timeoutMs = this.timeoutMs): Promise<unknown> {
    let reply: Uint8Array;
    try {
      reply = (
        await this.nc.request(controllerSubject(this.prefix, op), encode(body), { timeout: timeoutMs })
      ).data;
    } catch (cause) {
      throw this.unavailable(op, cause, timeoutMs);
    }
    const decoded = decodeControllerReply(`controller ${op}`, decode(reply));
    if (!decoded.ok) throw errorFromWire(decoded.error);
    return decoded.value;
  }

  private unavailable(op: string, cause: unknown, timeoutMs: number): Error {
    const where = `${this.address} (prefix ${this.prefix})`;
    if (cause instanceof NatsError && cause.code === ErrorCode.NoResponders) {
      return new UnavailableError(
        `no tsserve controller is answering on ${where}; start one with \`tsserve start\``,
        { cause, data: { op } },
      );
    }
    if (cause instanceof NatsError && cause.code === ErrorCode.Timeout) {
      return new UnavailableError(
        `no tsserve controller is answering on ${where} (ctl.${op} got no reply within ${timeoutMs} ms); start one with \`tsserve start\``,
        { cause, data: { op } },
      );
    }
    return new UnavailableError(`controller ${op} on ${where} failed: ${(cause as Error).message}`, {
      cause,
    });
  }
}
