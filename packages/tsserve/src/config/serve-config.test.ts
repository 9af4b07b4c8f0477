import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadServeConfig, parseServeConfig } from "./serve-config.js";

const GOOD = `
applications:
  - name: chat
    routePrefix: /chat
    importPath: ./app.ts#app
    deployments:
      - name: Chat
        numReplicas: 4
        maxOngoingRequests: 5
        requestRouter: { class: ConsistentHash, kwargs: { numVirtualNodes: 100, numFallbackReplicas: 2 } }
`;

/** The one-line error `text` produces, or "" when it parses. */
function errorOf(text: string, file = "serve.yaml"): string {
  try {
    parseServeConfig(text, file);
    return "";
  } catch (e) {
    expect((e as Error).name).toBe("ConfigError");
    const msg = (e as Error).message;
    expect(msg).not.toContain("\n");
    return msg;
  }
}

describe("serve config validation", () => {
  it("accepts the docs/design.md example and fills in defaults", () => {
    const cfg = parseServeConfig(GOOD, "serve.yaml");
    expect(cfg.applications).toHaveLength(1);
    expect(cfg.applications[0]).toMatchObject({
      name: "chat",
      routePrefix: "/chat",
      importPath: "./app.ts#app",
    });
    expect(cfg.applications[0]!.deployments[0]).toMatchObject({ name: "Chat", numReplicas: 4 });
    const noRoute = parseServeConfig("applications: [{ name: a, importPath: x.ts }]", "s.yaml");
    expect(noRoute.applications[0]!.routePrefix).toBe("/a");
    expect(noRoute.applications[0]!.deployments).toEqual([]);
    const hidden = parseServeConfig(
      "applications: [{ name: a, importPath: x.ts, routePrefix: null }]",
      "s.yaml",
    );
    expect(hidden.applications[0]!.routePrefix).toBeNull();
  });

  it("reads sessionState and shared, and names a bad session mode", () => {
    const text = GOOD.replace(
      "maxOngoingRequests: 5",
      "maxOngoingRequests: 5\n        sessionState: { mode: durable, ttlS: 600 }\n        shared: [history]",
    );
    expect(parseServeConfig(text, "serve.yaml").applications[0]!.deployments[0]).toMatchObject({
      sessionState: { mode: "durable", ttlS: 600 },
      shared: ["history"],
    });
    expect(errorOf(text.replace("mode: durable", "mode: disk"))).toMatch(
      /^serve\.yaml: applications\[0\]\.deployments\[0\]\.sessionState\.mode: expected "memory" or "durable"/,
    );
  });

  it("names file, field path, value and expectation for a bad option value", () => {
    const text = GOOD.replace("maxOngoingRequests: 5", "maxOngoingRequests: lots");
    expect(errorOf(text)).toBe(
      'serve.yaml: applications[0].deployments[0].maxOngoingRequests: expected an integer >= 1, got "lots"',
    );
  });

  it("gives the path of a bad field in a later deployment", () => {
    const text = `${GOOD}      - name: Other\n        numReplicas: -1\n`;
    expect(errorOf(text)).toBe(
      "serve.yaml: applications[0].deployments[1].numReplicas: expected an integer >= 0, got -1",
    );
  });

  it("rejects unknown fields at every level and lists the known ones", () => {
    expect(errorOf(`${GOOD}extra: 1\n`)).toMatch(
      /^serve\.yaml: extra: unknown field; known fields are applications, grpcOptions$/,
    );
    expect(errorOf(GOOD.replace("routePrefix: /chat", "routePrefx: /chat"))).toMatch(
      /^serve\.yaml: applications\[0\]\.routePrefx: unknown field; known fields are name, routePrefix, importPath, deployments; did you mean routePrefix\?$/,
    );
    expect(errorOf(GOOD.replace("numReplicas: 4", "numReplica: 4"))).toMatch(
      /^serve\.yaml: applications\[0\]\.deployments\[0\]\.numReplica: unknown field; known fields are name, numReplicas/,
    );
  });

  it("suggests the camelCase field for Ray's snake_case names and for near-misses", () => {
    expect(errorOf(GOOD.replace("numReplicas: 4", "num_replicas: 4"))).toBe(
      "serve.yaml: applications[0].deployments[0].num_replicas: unknown field; known fields are name, " +
        "numReplicas, maxOngoingRequests, maxQueuedRequests, requestRouter, autoscalingConfig, " +
        "gracefulShutdownTimeoutS, gracefulShutdownWaitLoopS, heartbeatPeriodS, heartbeatTimeoutS, startupTimeoutS, healthCheckPeriodS, " +
        "healthCheckTimeoutS, idempotent, maxRetries, sessionState, shared, multiplexed; " +
        "did you mean numReplicas?",
    );
    expect(errorOf(GOOD.replace("maxOngoingRequests: 5", "max_ongoing_requests: 5"))).toMatch(
      /max_ongoing_requests: unknown field; .*; did you mean maxOngoingRequests\?$/,
    );
    expect(errorOf(GOOD.replace("routePrefix: /chat", "route_prefix: /chat"))).toMatch(
      /^serve\.yaml: applications\[0\]\.route_prefix: .*did you mean routePrefix\?$/,
    );
    expect(errorOf(GOOD.replace("applications:", "application:"))).toMatch(
      /^serve\.yaml: application: .*did you mean applications\?$/,
    );
    const auto = GOOD.replace("numReplicas: 4", "autoscalingConfig: { min_replicas: 1, maxReplicas: 3 }");
    expect(errorOf(auto)).toMatch(
      /deployments\[0\]\.autoscalingConfig\.min_replicas: unknown field; .*did you mean minReplicas\?$/,
    );
    // No guess for a name far from every field.
    expect(errorOf(GOOD.replace("numReplicas: 4", "colour: 4"))).toMatch(
      /colour: unknown field; known fields are [^;]*$/,
    );
  });

  it("checks the rules between fields after the schema (autoscaling bounds)", () => {
    const auto = GOOD.replace("numReplicas: 4", "autoscalingConfig: { minReplicas: 3, maxReplicas: 2 }");
    expect(errorOf(auto)).toBe(
      "serve.yaml: applications[0].deployments[0].autoscalingConfig.maxReplicas: expected a value >= minReplicas (3), got 2",
    );
  });

  it("rejects missing or malformed required fields", () => {
    expect(errorOf("applications: []")).toBe(
      "serve.yaml: applications: expected a non-empty list of applications, got []",
    );
    expect(errorOf("{}")).toBe(
      "serve.yaml: applications: expected a non-empty list of applications, got undefined",
    );
    expect(errorOf("- a\n- b\n")).toBe(
      'serve.yaml: (top level): expected a mapping with an `applications` list, got ["a","b"]',
    );
    expect(errorOf(GOOD.replace("    importPath: ./app.ts#app\n", ""))).toBe(
      "serve.yaml: applications[0].importPath: expected a non-empty string, got undefined",
    );
    expect(errorOf(GOOD.replace("importPath: ./app.ts#app", "importPath: ./app.ts#not-an-id"))).toBe(
      'serve.yaml: applications[0].importPath: expected "path/to/app.ts#exportName", got "./app.ts#not-an-id"',
    );
    expect(errorOf(GOOD.replace("- name: Chat", "- numWorkers: 1"))).toBe(
      "serve.yaml: applications[0].deployments[0].name: expected a non-empty string, got undefined",
    );
    expect(errorOf(GOOD.replace("routePrefix: /chat", "routePrefix: chat"))).toMatch(
      /^serve\.yaml: applications\[0\]\.routePrefix: expected a path like "\/chat" .* got "chat"$/,
    );
    expect(errorOf(GOOD.replace("routePrefix: /chat", "routePrefix: //chat"))).toMatch(
      /^serve\.yaml: applications\[0\]\.routePrefix: expected a path like "\/chat" .* got "\/\/chat"$/,
    );
    expect(errorOf(GOOD.replace("name: chat", "name: my.chat"))).toMatch(
      /invalid applications\[0\]\.name "my\.chat"/,
    );
  });

  it("rejects duplicate application names, route prefixes and deployment names", () => {
    const two = `applications:\n  - { name: a, importPath: x.ts, routePrefix: /x }\n  - { name: a, importPath: y.ts }\n`;
    expect(errorOf(two)).toBe(
      'serve.yaml: applications[1].name: "a" is already used by applications[0].name; expected a unique value',
    );
    const routes = `applications:\n  - { name: a, importPath: x.ts, routePrefix: /x }\n  - { name: b, importPath: y.ts, routePrefix: /x }\n`;
    expect(errorOf(routes)).toMatch(
      /^serve\.yaml: applications\[1\]\.routePrefix: "\/x" is already used by applications\[0\]\.routePrefix/,
    );
    const deps = `applications:\n  - name: a\n    importPath: x.ts\n    deployments: [{ name: D }, { name: D }]\n`;
    expect(errorOf(deps)).toMatch(
      /^serve\.yaml: applications\[0\]\.deployments\[1\]\.name: "D" is already used/,
    );
  });

  it("reports YAML syntax errors with line and column, on one line", () => {
    expect(errorOf("applications:\n  - name: [unclosed\n")).toMatch(/^serve\.yaml:\d+:\d+: invalid YAML: /);
    expect(errorOf("applications: 1\napplications: 2\n")).toMatch(
      /^serve\.yaml:2:1: invalid YAML: Map keys must be unique$/,
    );
  });

  it("reads JSON when the file name ends in .json", () => {
    expect(
      parseServeConfig('{"applications":[{"name":"a","importPath":"x.ts"}]}', "serve.json").applications[0]!
        .name,
    ).toBe("a");
    expect(errorOf("{ nope", "serve.json")).toMatch(/^serve\.json: invalid JSON: /);
  });

  const dir = mkdtempSync(join(tmpdir(), "tsserve-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names a missing file", () => {
    expect(() => loadServeConfig(join(dir, "nope.yaml"))).toThrow(
      `${join(dir, "nope.yaml")}: cannot read the config file: no such file`,
    );
  });

  it("loads a file from disk", () => {
    const file = join(dir, "serve.yaml");
    writeFileSync(file, GOOD);
    expect(loadServeConfig(file).applications[0]!.name).toBe("chat");
  });
});

describe("serve config grpcOptions", () => {
  it("reads port and proto files, defaulting the port to 9000", () => {
    const text = `${GOOD}grpcOptions:\n  protoFiles: [./greeter.proto]\n`;
    expect(parseServeConfig(text, "serve.yaml").grpcOptions).toEqual({
      port: 9000,
      protoFiles: ["./greeter.proto"],
    });
    const withPort = `${GOOD}grpcOptions: { port: 9100, protoFiles: [a.proto, b.proto] }\n`;
    expect(parseServeConfig(withPort, "serve.yaml").grpcOptions).toEqual({
      port: 9100,
      protoFiles: ["a.proto", "b.proto"],
    });
    expect(parseServeConfig(GOOD, "serve.yaml").grpcOptions).toBeUndefined();
  });

  it("names the bad field of a grpcOptions block", () => {
    expect(errorOf(`${GOOD}grpcOptions: { port: 70000, protoFiles: [a.proto] }\n`)).toMatch(
      /grpcOptions\.port: expected an integer between 0 and 65535, got 70000/,
    );
    expect(errorOf(`${GOOD}grpcOptions: { port: 9000 }\n`)).toMatch(
      /grpcOptions\.protoFiles: expected a non-empty list/,
    );
    expect(errorOf(`${GOOD}grpcOptions: { protoFiles: [a.proto], servicers: [] }\n`)).toMatch(
      /grpcOptions.*servicers/,
    );
  });
});
