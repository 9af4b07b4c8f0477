import { describe, expect, it } from "vitest";
import { decodeResolvedAutoscaling } from "./config-decode.js";
import { resolveDeploymentOptions } from "./options.js";

describe("resolveDeploymentOptions", () => {
  it("fills Ray-compatible defaults", () => {
    const c = resolveDeploymentOptions({}, "Chat");
    expect(c).toMatchObject({
      name: "Chat",
      numReplicas: 1,
      maxOngoingRequests: 5,
      maxQueuedRequests: -1,
      requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
      autoscaling: null,
      gracefulShutdownTimeoutMs: 20_000,
    });
  });

  it("names the path, value and expectation of a bad field", () => {
    expect(() =>
      resolveDeploymentOptions({ maxOngoingRequests: 0 }, "X", "applications[0].deployments[0]"),
    ).toThrow("applications[0].deployments[0].maxOngoingRequests: expected an integer >= 1, got 0");
    expect(() => resolveDeploymentOptions({ numReplica: 3 }, "X")).toThrow(/numReplica: unknown field/);
    expect(() => resolveDeploymentOptions({ name: "a.b" }, "X")).toThrow(/invalid deployment.name/);
    expect(() => resolveDeploymentOptions({ requestRouter: { class: "" } }, "X")).toThrow(
      /requestRouter.class/,
    );
  });

  it("resolves autoscaling with initial replicas and millisecond delays", () => {
    const c = resolveDeploymentOptions(
      { autoscalingConfig: { minReplicas: 1, maxReplicas: 4, upscaleDelayS: 0.5, downscaleDelayS: 1 } },
      "X",
    );
    expect(c.numReplicas).toBe(1);
    expect(c.autoscaling).toMatchObject({
      maxReplicas: 4,
      targetOngoingRequests: 2,
      upscaleDelayMs: 500,
      downscaleDelayMs: 1000,
    });
    expect(() =>
      resolveDeploymentOptions({ autoscalingConfig: { minReplicas: 3, maxReplicas: 2 } }, "X"),
    ).toThrow(/maxReplicas/);
  });
});

describe("decodeResolvedAutoscaling (a resolved config from the wire)", () => {
  const resolved = resolveDeploymentOptions({
    name: "D",
    autoscalingConfig: { minReplicas: 1, maxReplicas: 4, initialReplicas: 2 },
  }).autoscaling!;
  const messageOf = (v: unknown): string => {
    try {
      decodeResolvedAutoscaling("config.autoscaling", v);
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("takes what resolveDeploymentOptions made, and null", () => {
    expect(decodeResolvedAutoscaling("a", resolved)).toEqual(resolved);
    expect(decodeResolvedAutoscaling("a", null)).toBeNull();
  });

  it("applies the same replica range rule as the user options, with the same messages", () => {
    expect(messageOf({ ...resolved, minReplicas: 5 })).toBe(
      "config.autoscaling.maxReplicas: expected a value >= minReplicas (5), got 4",
    );
    expect(messageOf({ ...resolved, initialReplicas: 9 })).toBe(
      "config.autoscaling.initialReplicas: expected a value between minReplicas and maxReplicas, got 9",
    );
    expect(messageOf({ ...resolved, upscaleDelayMs: -1 })).toMatch(/^config\.autoscaling\.upscaleDelayMs: /);
    expect(messageOf("fast")).toMatch(/null or a resolved autoscaling object/);
  });
});
