import { isTsserveError } from "./errors.js";
import { resolveDeploymentOptions } from "./options.js";
import { describe, expect, it } from "vitest";
import { parseStartCommand, parseStopCommand } from "./agent-commands.js";

const self = { nodeId: "node-1", prefix: "tsserve", address: "nats://10.0.0.5:4222" };
const spec = {
  address: "nats://127.0.0.1:4222",
  prefix: "tsserve",
  app: "chat",
  deployment: "Chat",
  replicaId: "Chat-abc",
  nodeId: "node-1",
  importPath: "app.ts#app",
  cwd: "/srv",
  config: resolveDeploymentOptions({}, "Chat"),
  codeVersion: "v1",
};

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isTsserveError(e) && e.code).toBe("BAD_REQUEST");
    return (e as Error).message;
  }
  throw new Error("expected a BAD_REQUEST error");
}

describe("parseStartCommand", () => {
  it("accepts a spec and puts in the agent's own address", () => {
    const parsed = parseStartCommand(spec, self);
    expect(parsed.address).toBe("nats://10.0.0.5:4222");
    expect(parsed.replicaId).toBe("Chat-abc");
  });

  it("names the bad field and value", () => {
    expect(badRequest(() => parseStartCommand({ ...spec, replicaId: 7 }, self))).toBe(
      "agent start: replicaId: expected a non-empty string, got 7",
    );
    expect(badRequest(() => parseStartCommand({ ...spec, app: "a.b" }, self))).toContain('invalid app "a.b"');
    expect(badRequest(() => parseStartCommand("hello", self))).toContain(
      "body: expected a ReplicaSpec object",
    );
  });

  it("rejects a spec meant for another node or prefix", () => {
    expect(badRequest(() => parseStartCommand({ ...spec, nodeId: "node-2" }, self))).toContain(
      `nodeId: expected this agent's node id "node-1", got "node-2"`,
    );
    expect(badRequest(() => parseStartCommand({ ...spec, prefix: "other" }, self))).toContain("prefix");
  });

  it("checks the config against the shared bounds table", () => {
    expect(badRequest(() => parseStartCommand({ ...spec, config: {} }, self))).toContain(
      "config.numReplicas: expected an integer >= 0, got undefined",
    );
    const fast = { ...spec.config, heartbeatPeriodMs: 5 };
    expect(badRequest(() => parseStartCommand({ ...spec, config: fast }, self))).toContain(
      "config.heartbeatPeriodMs: expected a number >= 10",
    );
  });
});

describe("parseStopCommand", () => {
  it("accepts a well-formed stop", () => {
    expect(parseStopCommand({ replicaId: "r1", graceful: false, timeoutMs: 0 })).toEqual({
      replicaId: "r1",
      graceful: false,
      timeoutMs: 0,
    });
  });

  it("rejects missing or wrong fields", () => {
    expect(badRequest(() => parseStopCommand({ replicaId: "r1", graceful: "yes", timeoutMs: 1 }))).toContain(
      'graceful: expected true or false, got "yes"',
    );
    expect(badRequest(() => parseStopCommand({ replicaId: "r1", graceful: true, timeoutMs: -1 }))).toContain(
      "timeoutMs",
    );
    expect(badRequest(() => parseStopCommand(null))).toContain("body");
  });
});
