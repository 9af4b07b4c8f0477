import { describe, expect, it } from "vitest";
import { defaultNodeId, parseAgentArgs } from "./agent-options.js";

describe("parseAgentArgs", () => {
  it("reads flags in both forms", () => {
    expect(parseAgentArgs(["--address", "nats://h:1", "--prefix=p", "--node-id", "n1"], {})).toEqual({
      address: "nats://h:1",
      prefix: "p",
      nodeId: "n1",
    });
  });

  it("falls back to the environment, then to defaults", () => {
    const args = parseAgentArgs([], { TSSERVE_ADDRESS: "nats://e:2", TSSERVE_NODE_ID: "" });
    expect(args).toEqual({ address: "nats://e:2", prefix: "tsserve", nodeId: undefined });
  });

  it("names a missing address and unknown flags", () => {
    expect(() => parseAgentArgs([], {})).toThrow(/no NATS address: pass --address or set TSSERVE_ADDRESS/);
    expect(() => parseAgentArgs(["--adress", "x"], {})).toThrow(/unknown argument "--adress"/);
    expect(() => parseAgentArgs(["--address"], {})).toThrow(/--address needs a value/);
  });
});

describe("defaultNodeId", () => {
  it("is the short host name, subject-safe, plus a random suffix", () => {
    const id = defaultNodeId("my.host.example.com");
    expect(id).toMatch(/^my-[0-9a-f]{6}$/);
    expect(defaultNodeId("weird host!")).toMatch(/^weird-host--[0-9a-f]{6}$/);
    expect(defaultNodeId("a")).not.toBe(defaultNodeId("a"));
  });
});
