import type { NatsConnection } from "nats";
import {
  AGENT_OPS,
  agentSubject,
  decode,
  encode,
  heartbeatSubject,
  type AgentHeartbeat,
  type ReplicaExit,
  type ReplicaHeartbeat,
  type ReplicaSpec,
} from "@tsserve/protocol/internal";

/**
 * An agent that runs no processes: it accepts start commands and heartbeats every "replica" it was
 * asked to start, so the real controller sees a RUNNING set of any size.
 */
export function fakeAgent(
  nc: NatsConnection,
  prefix: string,
  nodeId: string,
): { hosted: Map<string, ReplicaSpec>; stop(): void } {
  const hosted = new Map<string, ReplicaSpec>();
  const startedAt = Date.now();
  const ok = encode({ ok: true, value: null });
  const beat = (spec: ReplicaSpec): void => {
    const hb: ReplicaHeartbeat = {
      replicaId: spec.replicaId,
      app: spec.app,
      deployment: spec.deployment,
      nodeId,
      state: "RUNNING",
      ongoing: 0,
      pid: process.pid,
      startedAt,
      codeVersion: spec.codeVersion,
      // The incarnation the controller issued: a heartbeat without it is not adopted (fencing).
      generation: spec.generation ?? 0,
    };
    nc.publish(heartbeatSubject(prefix, spec.app, spec.deployment, spec.replicaId), encode(hb));
  };
  const agentBeat = (): void => {
    const replicas = [...hosted.values()].map((s) => ({
      replicaId: s.replicaId,
      app: s.app,
      deployment: s.deployment,
      pid: process.pid,
      startedAt,
      generation: s.generation ?? 0,
    }));
    const hb: AgentHeartbeat = { nodeId, pid: process.pid, hostname: "fake", startedAt, replicas };
    nc.publish(agentSubject(prefix, nodeId, AGENT_OPS.heartbeat), encode(hb));
  };
  nc.subscribe(agentSubject(prefix, nodeId, AGENT_OPS.start), {
    callback: (_e, m) => {
      const spec = decode(m.data) as ReplicaSpec;
      hosted.set(spec.replicaId, spec);
      m.respond(ok);
      beat(spec); // READY at once: this bench is about the controller, not process start-up.
    },
  });
  nc.subscribe(agentSubject(prefix, nodeId, AGENT_OPS.stop), {
    callback: (_e, m) => {
      const { replicaId } = decode(m.data) as { replicaId: string };
      const spec = hosted.get(replicaId);
      hosted.delete(replicaId);
      m.respond(ok);
      if (!spec) return;
      const { app, deployment } = spec;
      const exit: ReplicaExit = { nodeId, replicaId, app, deployment, code: 0, signal: null, stderrTail: "" };
      nc.publish(agentSubject(prefix, nodeId, AGENT_OPS.exit), encode(exit));
    },
  });
  nc.subscribe(agentSubject(prefix, nodeId, AGENT_OPS.shutdown), { callback: (_e, m) => m.respond(ok) });
  agentBeat();
  const timer = setInterval(() => {
    agentBeat();
    for (const spec of hosted.values()) beat(spec);
  }, 1000);
  return { hosted, stop: () => clearInterval(timer) };
}
