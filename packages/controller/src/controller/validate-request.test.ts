import { describe, expect, it } from "vitest";
import { resolveDeploymentOptions } from "@tsserve/protocol/internal";
import { validateDeployRequest, validateMembersRequest } from "./validate-request.js";

const good = {
  applications: [
    {
      name: "chat",
      routePrefix: "/chat",
      importPath: "app.ts#app",
      cwd: "/srv",
      ingress: "Chat",
      deployments: [{ config: resolveDeploymentOptions({ numReplicas: 2 }, "Chat"), codeVersion: "abc" }],
    },
  ],
};

describe("validateDeployRequest", () => {
  it("accepts a well-formed request", () => {
    expect(validateDeployRequest(good).applications[0]!.deployments[0]!.config.numReplicas).toBe(2);
  });

  it("rejects malformed requests with BAD_REQUEST naming the field and value", () => {
    expect(() => validateDeployRequest("nope")).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
    const bad = structuredClone(good);
    (bad.applications[0]!.deployments[0]!.config as { numReplicas: unknown }).numReplicas = -1;
    expect(() => validateDeployRequest(bad)).toThrow(
      /applications\[0\]\.deployments\[0\]\.config\.numReplicas: expected an integer >= 0, got -1/,
    );
    const badIngress = structuredClone(good);
    badIngress.applications[0]!.ingress = "Other";
    expect(() => validateDeployRequest(badIngress)).toThrow(
      /ingress: expected one of the deployment names \(Chat\)/,
    );
    const badName = structuredClone(good);
    badName.applications[0]!.name = "a.b";
    expect(() => validateDeployRequest(badName)).toThrow(expect.objectContaining({ code: "BAD_REQUEST" }));
  });

  it("validates members requests", () => {
    expect(validateMembersRequest({ app: "a", deployment: "D" })).toEqual({ app: "a", deployment: "D" });
    expect(() => validateMembersRequest({ app: "a" })).toThrow(
      /deployment: expected a non-empty string, got undefined/,
    );
  });
});
