import { describe, expect, it } from "vitest";
import type { DeploymentStatusReport, StatusReport } from "@tsserve/protocol";
import { formatStatus } from "./format-status.js";

type Replica = DeploymentStatusReport["replicas"][number];

const replica = (id: string, extra: Partial<Replica> = {}): Replica => ({
  replicaId: id,
  nodeId: "node-1",
  state: "RUNNING",
  ongoing: 0,
  startedAt: 0,
  pid: 100,
  codeVersion: "abcdef0123456789",
  restarts: 0,
  ...extra,
});

const report = (replicas: Replica[]): StatusReport => ({
  applications: [
    {
      name: "chat",
      status: "RUNNING",
      message: "",
      routePrefix: "/chat",
      ingress: "Chat",
      deployments: [
        { name: "Chat", status: "HEALTHY", message: "", targetReplicas: replicas.length, replicas },
      ],
    },
  ],
  nodes: [{ nodeId: "node-1", replicas: replicas.length, lastSeen: 0 }],
});

describe("formatStatus: sessions of stateful deployments", () => {
  it("shows sessions per replica and the hand-offs in progress", () => {
    const out = formatStatus(
      report([
        replica("Chat-a", { sessions: 7, handoffs: 0 }),
        replica("Chat-b", { sessions: 5, handoffs: 2 }),
      ]),
      0,
    );
    expect(out).toMatch(/REPLICAS\s+SESSIONS\s+MESSAGE/);
    expect(out).toMatch(/Chat \(ingress\)\s+HEALTHY\s+2\/2\s+12 \(2 moving\)/);
    expect(out).toMatch(/RESTARTS\s+SESSIONS\s+HANDOFFS/);
    expect(out).toMatch(/^Chat-a\s.*\s0\s+7\s+0$/m);
    expect(out).toMatch(/^Chat-b\s.*\s0\s+5\s+2$/m);
  });

  it("prints what it always did for a cluster without sessionState", () => {
    const out = formatStatus(report([replica("Chat-a"), replica("Chat-b")]), 0);
    expect(out).not.toMatch(/SESSIONS|HANDOFFS/);
    expect(out).toMatch(/^REPLICA\s+APPLICATION\s+STATE\s+NODE\s+PID\s+ONGOING\s+AGE\s+VERSION\s+RESTARTS$/m);
  });
});

describe("formatStatus: models of multiplexed deployments", () => {
  it("shows each replica's models, most recently used first, and counts what does not fit", () => {
    const out = formatStatus(
      report([
        replica("Lora-a", { models: ["m1", "m2"] }),
        replica("Lora-b", { models: [] }),
        replica("Lora-c", { models: ["m1", "m2", "m3", "m4", "m5", "m6"] }),
      ]),
      0,
    );
    expect(out).toMatch(/RESTARTS\s+MODELS$/m);
    expect(out).toMatch(/^Lora-a\s.*\s0\s+m2, m1$/m);
    expect(out).toMatch(/^Lora-b\s.*\s0\s+none$/m);
    expect(out).toMatch(/^Lora-c\s.*\s0\s+m6, m5, m4, m3 \+2$/m);
  });

  it("has no MODELS column without a multiplexed deployment", () => {
    expect(formatStatus(report([replica("Chat-a")]), 0)).not.toMatch(/MODELS/);
  });
});
