import { describe, expect, it } from "vitest";
import { resolveDeploymentOptions, type ReplicaSpec } from "@tsserve/protocol/internal";
import { parseReplicaSpec } from "./replica-spec.js";

const good: ReplicaSpec = {
  address: "nats://127.0.0.1:4222",
  prefix: "tsserve",
  app: "chat",
  deployment: "Chat",
  replicaId: "Chat-1",
  nodeId: "node-1",
  importPath: "app.ts#app",
  cwd: "/tmp",
  config: resolveDeploymentOptions({}, "Chat"),
  codeVersion: "v1",
};

describe("parseReplicaSpec", () => {
  it("accepts a complete spec", () => {
    expect(parseReplicaSpec(JSON.stringify(good))).toEqual(good);
  });

  it("says how replicas are started when the variable is missing", () => {
    expect(() => parseReplicaSpec(undefined)).toThrow(
      /TSSERVE_REPLICA_SPEC is not set: replicas are started by startReplicaProcess/,
    );
  });

  it("names the bad JSON", () => {
    expect(() => parseReplicaSpec("{oops")).toThrow(/TSSERVE_REPLICA_SPEC is not valid JSON .*\{oops/);
  });

  it("names a missing or invalid field and what is accepted", () => {
    expect(() => parseReplicaSpec(JSON.stringify({ ...good, address: "" }))).toThrow(
      /TSSERVE_REPLICA_SPEC.address: expected a non-empty string, got ""/,
    );
    expect(() => parseReplicaSpec(JSON.stringify({ ...good, replicaId: "a.b" }))).toThrow(
      /replicaId "a.b": use letters/,
    );
    expect(() =>
      parseReplicaSpec(JSON.stringify({ ...good, config: { ...good.config, maxOngoingRequests: 0 } })),
    ).toThrow(/config.maxOngoingRequests: expected an integer >= 1, got 0/);
    expect(() => parseReplicaSpec("[]")).toThrow(/expected a JSON object \(ReplicaSpec\)/);
  });
});
