import type { ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import type { Msg, NatsConnection } from "nats";
import {
  AGENT_OPS,
  DEFAULT_PREFIX,
  agentSubject,
  connectNats,
  decode,
  encode,
  errorToWire,
  logsSubject,
  parseStartCommand,
  parseStopCommand,
  requireEmptyMap,
  validatePrefix,
  validateToken,
  type AgentHeartbeat,
  type AgentReplica,
  type ControllerReply,
  type ReplicaExit,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";
import { UnavailableError } from "@tsserve/protocol";
import { startReplicaProcess } from "@tsserve/replica/internal";
import { defaultNodeId } from "./agent-options.js";
import { nodeOptionsWithParentWatch } from "./entry-paths.js";
import { checkReplicaUserAccess } from "./replica-user-access.js";
import { lookupOsUser } from "./os-user.js";
import { replicaEnvironment } from "./replica-env.js";
import { ReplicaChild } from "./replica-child.js";
import { DEFAULT_STDERR_TAIL_LINES } from "./stderr-tail.js";
import { serveLogTails } from "./log-tail-server.js";
import { captureReplicaOutput, replicaLogPath, ReplicaLogFile, resolveLogDir } from "./replica-log-files.js";

/** Default period of agent heartbeats. */
export const DEFAULT_AGENT_HEARTBEAT_PERIOD_MS = 1000;

/** Options of {@link Agent.start}. */
export interface AgentOptions {
  /** NATS server URL(s), comma-separated. Replicas get this address too. */
  address: string;
  /** Subject prefix of the tsserve cluster. @default DEFAULT_PREFIX ("tsserve") */
  prefix?: string;
  /** This machine's id in the cluster. @default hostname + a short random suffix */
  nodeId?: string;
  /** Heartbeat period (±10 % jitter). @default DEFAULT_AGENT_HEARTBEAT_PERIOD_MS */
  heartbeatPeriodMs?: number;
  /** Lines of each replica's stderr kept for its exit report. @default DEFAULT_STDERR_TAIL_LINES */
  stderrTailLines?: number;
  /** Copy replica stderr to the agent's stderr. @default true */
  forwardStderr?: boolean;
  /** How a replica process is started. @default startReplicaProcess from @tsserve/replica */
  spawnReplica?: (spec: ReplicaSpec) => ChildProcess;
  /** Replica log files go under `<logDir>/replicas/`. @default $TSSERVE_LOG_DIR, else .tsserve/logs */
  logDir?: string;
  /**
   * Run replicas as this OS user (name or uid; the agent must run as root). Replica code then
   * cannot read the agent's environment or credential files. @default the agent's own user
   */
  replicaUser?: string;
}

const OK: ControllerReply<null> = { ok: true, value: null };

/**
 * The default launcher: stderr piped (for the exit report's tail), a scrubbed environment with the
 * replica role's credentials only (replica-env.ts), and this agent's pid in the spec so that the
 * replica exits when this agent is gone, even if that happens before the replica starts watching.
 */
function replicaLauncher(replicaUser: string | undefined): (spec: ReplicaSpec) => ChildProcess {
  const user = replicaUser === undefined ? undefined : lookupOsUser(replicaUser);
  return (spec) => {
    if (user) checkReplicaUserAccess(spec, user);
    return startReplicaProcess(spec, {
      stdio: ["ignore", "pipe", "pipe"],
      inheritEnv: false,
      env: replicaEnvironment(process.env, {
        NODE_OPTIONS: nodeOptionsWithParentWatch(process.env["NODE_OPTIONS"] ?? ""),
        ...(user ? { HOME: user.home, USER: user.name } : {}),
      }),
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  };
}

/**
 * The agent of one machine: starts and stops replica processes (its children) on the controller's
 * command, reports every exit at once, and heartbeats the list of replicas it runs.
 */
export class Agent {
  readonly nodeId: string;
  readonly prefix: string;
  readonly address: string;
  /** Epoch ms when the agent started. */
  readonly startedAt = Date.now();
  /** Resolves once the agent has stopped its replicas and closed its connection. */
  readonly closed: Promise<void>;
  private readonly children = new Map<string, ReplicaChild>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private shuttingDown: Promise<void> | undefined;
  private resolveClosed!: () => void;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: Required<Omit<AgentOptions, "nodeId" | "prefix" | "replicaUser">> & {
      nodeId: string;
      prefix: string;
    },
  ) {
    this.nodeId = options.nodeId;
    this.prefix = options.prefix;
    this.address = options.address;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /** Connects to NATS, subscribes to this node's commands and starts heartbeating. */
  static async start(options: AgentOptions): Promise<Agent> {
    const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
    const nodeId = validateToken("node id", options.nodeId ?? defaultNodeId());
    // Reconnects forever: its replicas keep running through NATS blips and it must hear the next command.
    const nc = await connectNats({ address: options.address, name: `tsserve-agent-${nodeId}` });
    const agent = new Agent(nc, {
      address: options.address,
      prefix,
      nodeId,
      heartbeatPeriodMs: options.heartbeatPeriodMs ?? DEFAULT_AGENT_HEARTBEAT_PERIOD_MS,
      stderrTailLines: options.stderrTailLines ?? DEFAULT_STDERR_TAIL_LINES,
      forwardStderr: options.forwardStderr ?? true,
      spawnReplica: options.spawnReplica ?? replicaLauncher(options.replicaUser),
      logDir: resolveLogDir(options.logDir),
    });
    serveLogTails(nc, prefix, nodeId, agent.options.logDir);
    agent.subscribe(AGENT_OPS.start, (body) => agent.startReplica(body));
    agent.subscribe(AGENT_OPS.stop, (body) => agent.stopReplica(body));
    agent.subscribe(AGENT_OPS.shutdown, (body) => {
      requireEmptyMap(`agent.${nodeId}.shutdown`, body);
      // Reply first: the shutdown takes as long as the slowest drain.
      setImmediate(() => void agent.shutdown());
    });
    await nc.flush();
    agent.heartbeat();
    void nc.closed().then(() => {
      // Closed without a shutdown (e.g. fatal auth error): orphaned replicas are worse than none.
      if (!agent.shuttingDown) for (const c of agent.children.values()) void c.stop(false, 0);
    });
    return agent;
  }

  /** The replicas this agent runs right now. */
  replicas(): AgentReplica[] {
    return [...this.children.values()].map((c) => c.describe());
  }

  /**
   * Stops every replica gracefully (each within its own `gracefulShutdownTimeoutMs`), reports their
   * exits, then closes the connection. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      const all = [...this.children.values()];
      await Promise.all(all.map((c) => c.stop(true, c.spec.config.gracefulShutdownTimeoutMs)));
      // Let the exit handlers (queued on the same promises) publish before the connection drains.
      await new Promise((r) => setImmediate(r));
      clearTimeout(this.heartbeatTimer);
      if (!this.nc.isClosed()) {
        this.publishHeartbeat();
        await this.nc.drain().catch(() => undefined);
      }
      this.resolveClosed();
    })();
    return this.shuttingDown;
  }

  private subscribe(op: string, handler: (body: unknown) => void): void {
    this.nc.subscribe(agentSubject(this.prefix, this.nodeId, op), {
      callback: (err, msg) => {
        if (!err) this.dispatch(msg, op, handler);
      },
    });
  }

  /** Malformed commands answered BAD_REQUEST: reported on every heartbeat. */
  private rejectedMessages = 0;
  /** The highest controller lease term obeyed: commands of a lower one are refused. */
  private term = 0;

  /**
   * Lease-term fencing: a command from a controller whose term is below one this agent has already
   * obeyed comes from a controller that lost its lease (and may not know it yet).
   */
  private checkTerm(op: string, term: number | undefined): void {
    const t = term ?? 0;
    if (t < this.term) {
      throw new UnavailableError(
        `agent ${this.nodeId}: ${op} from a stale lease term ${t} (this agent obeys term ${this.term} or later)`,
      );
    }
    this.term = t;
  }

  private dispatch(msg: Msg, op: string, handler: (body: unknown) => void): void {
    let reply: ControllerReply<null> = OK;
    try {
      if (this.shuttingDown && op !== AGENT_OPS.shutdown) {
        throw new UnavailableError(`agent ${this.nodeId} is shutting down; ${op} refused`);
      }
      // A shutdown needs no body; everything else must decode.
      handler(op === AGENT_OPS.shutdown && msg.data.length === 0 ? {} : decode(msg.data));
    } catch (e) {
      reply = { ok: false, error: errorToWire(e) };
      if (reply.error.code === "BAD_REQUEST") this.rejectedMessages++;
      if (!msg.reply) process.stderr.write(`tsserve agent ${this.nodeId}: ${op}: ${(e as Error).message}\n`);
    }
    if (msg.reply) msg.respond(encode(reply));
  }

  private startReplica(body: unknown): void {
    const { term, ...command } = parseStartCommand(body, {
      nodeId: this.nodeId,
      prefix: this.prefix,
      address: this.address,
    });
    this.checkTerm("start", term);
    const spec: ReplicaSpec = { ...command, parentPid: process.pid };
    const existing = this.children.get(spec.replicaId);
    // Idempotent: a controller that timed out on a start may send it again.
    if (existing && !existing.hasExited) return;
    const child = this.options.spawnReplica(spec);
    let spawnError: Error | undefined;
    child.on("error", (e) => {
      spawnError = e;
      process.stderr.write(`tsserve agent ${this.nodeId}: replica ${spec.replicaId}: ${e.message}\n`);
    });
    if (child.pid === undefined) {
      throw new Error(
        `could not spawn replica ${spec.replicaId}${spawnError ? `: ${spawnError.message}` : ""}`,
      );
    }
    const rc = new ReplicaChild(spec, child, this.options.stderrTailLines, this.options.forwardStderr);
    this.children.set(spec.replicaId, rc);
    this.captureOutput(spec, child);
    void rc.exited.then((exit) => {
      if (this.children.get(spec.replicaId) === rc) this.children.delete(spec.replicaId);
      const report: ReplicaExit = {
        nodeId: this.nodeId,
        replicaId: spec.replicaId,
        app: spec.app,
        deployment: spec.deployment,
        code: exit.code,
        signal: exit.signal,
        stderrTail: rc.stderrTail(),
      };
      if (!this.nc.isClosed())
        this.nc.publish(agentSubject(this.prefix, this.nodeId, AGENT_OPS.exit), encode(report));
    });
  }

  /** Per-replica log file, and each line live on `logs.<app>.<deployment>.<replica>`. */
  private captureOutput(spec: ReplicaSpec, child: ChildProcess): void {
    const { logDir, forwardStderr } = this.options;
    const file = new ReplicaLogFile(replicaLogPath(logDir, spec.app, spec.deployment, spec.replicaId), spec);
    const subject = logsSubject(this.prefix, spec.app, spec.deployment, spec.replicaId);
    captureReplicaOutput(
      file,
      child,
      (lines) => {
        if (!this.nc.isClosed()) this.nc.publish(subject, encode(lines));
      },
      forwardStderr,
    );
  }

  private stopReplica(body: unknown): void {
    const req = parseStopCommand(body);
    this.checkTerm("stop", req.term);
    // An unknown replica is already stopped: the desired outcome holds.
    void this.children.get(req.replicaId)?.stop(req.graceful, req.timeoutMs);
  }

  private heartbeat(): void {
    this.publishHeartbeat();
    const period = this.options.heartbeatPeriodMs;
    // ±10 % jitter keeps many agents from beating in lockstep.
    this.heartbeatTimer = setTimeout(() => this.heartbeat(), period * (0.9 + Math.random() * 0.2));
    this.heartbeatTimer.unref();
  }

  private publishHeartbeat(): void {
    if (this.nc.isClosed()) return;
    const hb: AgentHeartbeat = {
      nodeId: this.nodeId,
      pid: process.pid,
      hostname: hostname(),
      startedAt: this.startedAt,
      replicas: this.replicas(),
      rejectedMessages: this.rejectedMessages,
      term: this.term,
    };
    this.nc.publish(agentSubject(this.prefix, this.nodeId, AGENT_OPS.heartbeat), encode(hb));
  }
}
