import type { NatsConnection } from "nats";
import {
  AGENT_OPS,
  agentSubject,
  decode,
  encode,
  errorFromWire,
  isPlainObject,
  type ApplicationSpec,
  type ReplicaSpec,
  type StartReplicaRequest,
  type StopReplicaRequest,
} from "@tsserve/protocol/internal";
import type { ResolvedControllerOptions } from "./controller-options.js";
import type { DeploymentRecord, ReplicaRecord } from "./types.js";

/** What an agent needs to spawn one replica: importPath/cwd from the app, config and code version. */
export function replicaSpecFor(
  opts: ResolvedControllerOptions,
  app: ApplicationSpec,
  d: DeploymentRecord,
  r: ReplicaRecord,
): ReplicaSpec {
  // Longer than every timeout that gets a replica replaced, so a replica fences itself only after
  // the controller has given up on it (a NATS restart of a few seconds fences nobody).
  const fenceAfterMs = Math.max(
    opts.replicaFenceMs,
    2 * d.spec.config.heartbeatTimeoutMs,
    2 * opts.agentTimeoutMs,
  );
  return {
    address: opts.address,
    prefix: opts.prefix,
    app: d.app,
    deployment: d.name,
    replicaId: r.replicaId,
    nodeId: r.nodeId,
    importPath: app.importPath,
    cwd: app.cwd,
    config: d.spec.config,
    codeVersion: d.spec.codeVersion,
    generation: r.generation,
    fenceAfterMs,
  };
}

/** Requests to agents: start, stop and shut down replica processes on one machine. */
export class AgentActions {
  /** @param term the sender's current lease term, sent with every start and stop. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: ResolvedControllerOptions,
    private readonly term: () => number,
  ) {}

  private async request(nodeId: string, op: string, body: unknown): Promise<void> {
    const msg = await this.nc.request(agentSubject(this.opts.prefix, nodeId, op), encode(body), {
      timeout: this.opts.agentRequestTimeoutMs,
    });
    const reply = decode(msg.data);
    if (!isPlainObject(reply) || typeof reply["ok"] !== "boolean") {
      throw new Error(`agent ${nodeId} sent a malformed ${op} reply`);
    }
    if (reply["ok"] === false) throw errorFromWire(reply["error"]);
  }

  /** Asks an agent to spawn a replica; resolves once spawned (not READY). */
  start(spec: ReplicaSpec): Promise<void> {
    const req: StartReplicaRequest = { ...spec, term: this.term() };
    return this.request(spec.nodeId, AGENT_OPS.start, req);
  }

  /** Asks an agent to stop a replica: drain (SIGTERM) then SIGKILL after timeoutMs, or SIGKILL at once. */
  stop(nodeId: string, replicaId: string, graceful: boolean, timeoutMs: number): Promise<void> {
    const req: StopReplicaRequest = { replicaId, graceful, timeoutMs, term: this.term() };
    return this.request(nodeId, AGENT_OPS.stop, req);
  }

  /** Asks an agent to stop its replicas and exit. */
  shutdown(nodeId: string): Promise<void> {
    return this.request(nodeId, AGENT_OPS.shutdown, {});
  }
}
