import { describe, expect, it } from "vitest";
import { editDistance, suggestField, toCamelCase } from "./did-you-mean.js";
import { resolveDeploymentOptions } from "./options.js";

describe("suggestField", () => {
  const known = ["name", "numReplicas", "maxOngoingRequests", "maxQueuedRequests", "requestRouter"];

  it("maps Ray's snake_case names to their camelCase field", () => {
    expect(toCamelCase("num_replicas")).toBe("numReplicas");
    expect(suggestField("num_replicas", known)).toBe("numReplicas");
    expect(suggestField("max-ongoing-requests", known)).toBe("maxOngoingRequests");
    expect(suggestField("REQUEST_ROUTER", known)).toBe("requestRouter");
  });

  it("finds near-misses within a few edits and guesses nothing for unrelated names", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(suggestField("numReplica", known)).toBe("numReplicas");
    expect(suggestField("maxOngoingRequest", known)).toBe("maxOngoingRequests");
    expect(suggestField("nmae", known)).toBe("name");
    expect(suggestField("colour", known)).toBeUndefined();
    expect(suggestField("x", known)).toBeUndefined();
  });

  it("is part of the code-side deployment() option errors too", () => {
    expect(() => resolveDeploymentOptions({ num_replicas: 3 }, "X")).toThrow(
      /deployment\.num_replicas: unknown field; known fields are .*; did you mean numReplicas\?$/,
    );
  });
});
