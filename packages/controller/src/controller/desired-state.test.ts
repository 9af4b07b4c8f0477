import { describe, expect, it } from "vitest";
import { resolveDeploymentOptions, type ApplicationSpec } from "@tsserve/protocol/internal";
import { type DeploymentOptions } from "@tsserve/protocol";
import { DesiredState } from "./desired-state.js";

function app(options: DeploymentOptions, codeVersion = "v1"): ApplicationSpec {
  return {
    name: "app",
    routePrefix: null,
    importPath: "app.ts#app",
    cwd: "/srv",
    ingress: "D",
    deployments: [{ config: resolveDeploymentOptions(options, "D"), codeVersion }],
  };
}

describe("DesiredState", () => {
  it("treats numReplicas and autoscaling bounds as scale changes, anything else as a new version", () => {
    const s = new DesiredState();
    s.apply([app({ numReplicas: 2 })]);
    const v1 = s.live("app", "D")!.versionKey;
    s.apply([app({ numReplicas: 5 })]);
    expect(s.live("app", "D")!.versionKey).toBe(v1);
    expect(s.live("app", "D")!.target).toBe(5);
    s.apply([app({ numReplicas: 5, maxOngoingRequests: 9 })]);
    expect(s.live("app", "D")!.versionKey).not.toBe(v1);
    const v2 = s.live("app", "D")!.versionKey;
    s.apply([app({ numReplicas: 5, maxOngoingRequests: 9 }, "v2")]);
    expect(s.live("app", "D")!.versionKey).not.toBe(v2);
  });

  it("is idempotent and keeps an autoscaled target within new bounds", () => {
    const s = new DesiredState();
    expect(s.apply([app({ autoscalingConfig: { minReplicas: 1, maxReplicas: 5 } })])).toHaveLength(1);
    expect(s.apply([app({ autoscalingConfig: { minReplicas: 1, maxReplicas: 5 } })])).toHaveLength(0);
    s.live("app", "D")!.target = 4;
    s.apply([app({ autoscalingConfig: { minReplicas: 1, maxReplicas: 3 } })]);
    expect(s.live("app", "D")!.target).toBe(3);
  });

  it("rejects deleting an unknown application with DEPLOYMENT_NOT_FOUND naming it", () => {
    const s = new DesiredState();
    s.apply([app({})]);
    expect(() => s.markDeleted("ghost")).toThrow(/"ghost" is not deployed; deployed applications: app/);
    s.markDeleted("app");
    expect(s.live("app", "D")).toBeUndefined();
  });
});
