import { describe, expect, it } from "vitest";
import * as tsserve from "./index.js";

describe("tsserve facade", () => {
  it("exports the public API named in docs/design.md §3", () => {
    for (const name of [
      "deployment",
      "bind",
      "connect",
      "getReplicaContext",
      "getRequestContext",
      "RequestRouter",
      "PowerOfTwoChoicesRouter",
      "ConsistentHashRouter",
      "registerRouter",
      "DeploymentResponse",
    ]) {
      expect(typeof (tsserve as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("exports each catchable error with a guard that recognises it", () => {
    const pairs: [Error, (e: unknown) => boolean][] = [
      [new tsserve.BackPressureError(3, 3, "Chat"), tsserve.isBackPressureError],
      [new tsserve.RequestTimeoutError("late"), tsserve.isRequestTimeoutError],
      [new tsserve.ReplicaDiedError("gone"), tsserve.isReplicaDiedError],
      [new tsserve.DeploymentNotFoundError("nope"), tsserve.isDeploymentNotFoundError],
      [new tsserve.UserCodeError("boom", "TypeError"), tsserve.isUserCodeError],
      [new tsserve.ConfigError("bad"), tsserve.isConfigError],
      [new tsserve.BadRequestError("too deep"), tsserve.isBadRequestError],
      [new tsserve.ReplyTooLargeError("too large"), tsserve.isReplyTooLargeError],
    ];
    for (const [error, guard] of pairs) {
      expect(guard(error), error.name).toBe(true);
      expect(tsserve.isTsserveError(error)).toBe(true);
      // A guard accepts only its own kind.
      expect(guard(new Error(error.message))).toBe(false);
    }
    expect(tsserve.isBackPressureError(new tsserve.RequestTimeoutError("late"))).toBe(false);
  });

  it("declares deployments in function form and binds them into an Application", () => {
    class Echo {
      __call__(x: unknown): unknown {
        return x;
      }
    }
    const dep = tsserve.deployment({ numReplicas: 2 })(Echo);
    expect(dep.name).toBe("Echo");
    expect(dep.config.numReplicas).toBe(2);
    const app = tsserve.bind(dep);
    expect(app.deployment).toBe(dep);
    expect(() => tsserve.deployment({ maxOngoingRequests: 0 })).toThrow(
      /maxOngoingRequests: expected an integer >= 1/,
    );
  });
});
