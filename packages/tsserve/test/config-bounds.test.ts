import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCluster } from "@tsserve/cluster";
import { validateDeployRequest } from "@tsserve/controller/internal";
import {
  AUTOSCALING_BOUNDS,
  CONFIG_BOUNDS,
  decodeMembershipSnapshot,
  parseStartCommand,
  resolveDeploymentOptions,
  userKey,
  userScale,
  type ConfigBound,
  type DeployRequest,
  type ResolvedDeploymentConfig,
} from "@tsserve/protocol/internal";
import { parseReplicaSpec } from "@tsserve/replica/internal";
import { freePort } from "@tsserve/test-utils";
import { describe, expect, it } from "vitest";

// Every row of the bounds tables, in every reader of a deployment's config: a value just below the
// bound is refused naming the field, the bound itself is accepted and arrives unchanged. A new row
// (a new config number) is covered here without a line of its own.

const base = resolveDeploymentOptions({}, "D");
/** Autoscaling around which every replica-count bound is reachable (0 ≤ initial ≤ max). */
const scaling = resolveDeploymentOptions({
  name: "D",
  autoscalingConfig: { minReplicas: 0, maxReplicas: 4, initialReplicas: 0 },
}).autoscaling!;
const self = { nodeId: "node-1", prefix: "tsserve", address: "nats://10.0.0.5:4222" };
const spec = {
  address: "nats://127.0.0.1:4222",
  prefix: "tsserve",
  app: "a",
  deployment: "D",
  replicaId: "D-1",
  nodeId: "node-1",
  importPath: "app.ts#app",
  cwd: "/srv",
  codeVersion: "v1",
};

function deployRequest(config: unknown): DeployRequest {
  return {
    applications: [
      {
        name: "a",
        routePrefix: null,
        importPath: "app.ts#app",
        cwd: "/srv",
        ingress: "D",
        deployments: [{ config: config as ResolvedDeploymentConfig, codeVersion: "v1" }],
      },
    ],
  };
}

type Where = "top" | "autoscaling";
/** A reader: takes a resolved-unit value of `field` and returns what it made of it. */
type Reader = (where: Where, field: string, value: number) => number;

/** The wire readers all take a resolved config with the one field replaced. */
function wireConfig(where: Where, field: string, value: number): Record<string, unknown> {
  return where === "top"
    ? { ...base, [field]: value }
    : { ...base, autoscaling: { ...scaling, [field]: value } };
}
function pick(config: ResolvedDeploymentConfig, where: Where, field: string): number {
  const from = (where === "top" ? config : config.autoscaling) as unknown as Record<string, number>;
  return from[field]!;
}

const READERS: Record<string, Reader> = {
  "deployment options (seconds, serve.yaml and deployment())": (where, field, value) => {
    const given = value / userScale(field);
    const options =
      where === "top"
        ? { [userKey(field)]: given }
        : {
            autoscalingConfig: {
              minReplicas: 0,
              maxReplicas: 4,
              initialReplicas: 0,
              [userKey(field)]: given,
            },
          };
    return pick(resolveDeploymentOptions(options, "D"), where, field);
  },
  "controller deploy validation (ctl.deploy)": (where, field, value) =>
    pick(
      validateDeployRequest(deployRequest(wireConfig(where, field, value))).applications[0]!.deployments[0]!
        .config,
      where,
      field,
    ),
  "agent start command (agent.<node>.start)": (where, field, value) =>
    pick(parseStartCommand({ ...spec, config: wireConfig(where, field, value) }, self).config, where, field),
  "replica spec (TSSERVE_REPLICA_SPEC)": (where, field, value) =>
    pick(
      parseReplicaSpec(JSON.stringify({ ...spec, config: wireConfig(where, field, value) })).config,
      where,
      field,
    ),
};

/** The routing numbers also travel in every membership snapshot, read by handles and replicas. */
const ROUTING_FIELDS = new Set(["maxOngoingRequests", "maxQueuedRequests", "maxRetries"]);
const snapshotReader: Reader = (_where, field, value) => {
  const config = {
    maxOngoingRequests: 5,
    maxQueuedRequests: -1,
    requestRouter: base.requestRouter,
    [field]: value,
  };
  const snap = decodeMembershipSnapshot({ app: "a", deployment: "D", version: 1, replicas: [], config });
  return (snap.config as unknown as Record<string, number>)[field]!;
};

/** Just outside a bound: the next integer down, or a thousandth of a unit (or of a millisecond) below. */
function below(b: ConfigBound): number {
  if (b.exclusive) return b.min;
  return b.integer ? b.min - 1 : b.min - 1e-3;
}
/** The smallest value inside a bound. */
function atLeast(b: ConfigBound): number {
  return b.exclusive ? b.min + 1e-3 : b.min;
}

const ROWS: [Where, string, ConfigBound][] = [
  ...Object.entries(CONFIG_BOUNDS).map(([f, b]): [Where, string, ConfigBound] => ["top", f, b]),
  ...Object.entries(AUTOSCALING_BOUNDS).map(([f, b]): [Where, string, ConfigBound] => ["autoscaling", f, b]),
];

describe("CONFIG_BOUNDS: one bound per config number, the same in every reader", () => {
  it("covers every number of a resolved config", () => {
    const numbers = (o: object): string[] =>
      Object.entries(o)
        .filter(([, v]) => typeof v === "number")
        .map(([k]) => k)
        .sort();
    expect(Object.keys(CONFIG_BOUNDS).sort()).toEqual(numbers(base));
    expect(Object.keys(AUTOSCALING_BOUNDS).sort()).toEqual(numbers(scaling));
  });

  const readers = Object.entries(READERS);
  describe.each(ROWS)("%s %s", (where, field, bound) => {
    const all: [string, Reader][] =
      where === "top" && ROUTING_FIELDS.has(field)
        ? [...readers, ["membership snapshot (members.<app>.<deployment>)", snapshotReader]]
        : readers;

    it.each(all)(`refuses just below the bound and takes the bound: %s`, (_name, read) => {
      const shown = new RegExp(`\\b${userKey(field)}\\b|\\b${field}\\b`);
      expect(() => read(where, field, below(bound))).toThrow(shown);
      expect(read(where, field, atLeast(bound))).toBeCloseTo(atLeast(bound), 9);
      if (bound.integer) expect(() => read(where, field, bound.min + 0.5)).toThrow(shown);
      if (bound.sentinel !== undefined) expect(read(where, field, bound.sentinel)).toBe(bound.sentinel);
    });
  });

  it("a deploy a real controller takes is never refused by its agent: heartbeatPeriodMs 5 is BAD_REQUEST at ctl.deploy", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "tsserve-bounds-"));
    const cluster = await startLocalCluster({ stateDir, natsPort: await freePort(), logs: "file" });
    try {
      const err = await cluster.client
        .deploy(deployRequest({ ...base, heartbeatPeriodMs: 5 }))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "BAD_REQUEST" });
      expect((err as Error).message).toMatch(
        /applications\[0\]\.deployments\[0\]\.config\.heartbeatPeriodMs: expected a number >= 10, got 5/,
      );
      expect((await cluster.client.status()).applications).toEqual([]);
    } finally {
      await cluster.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
