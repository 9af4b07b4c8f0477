import { describe, expect, it } from "vitest";
import { replicaEnvironment } from "./replica-env.js";

describe("replicaEnvironment", () => {
  it("passes on neutral and logging variables and what TSSERVE_REPLICA_ENV names, never other secrets", () => {
    const env = replicaEnvironment({
      PATH: "/bin",
      TSSERVE_LOG_LEVEL: "debug",
      TSSERVE_ACCESS_LOG: "1",
      MODEL_PATH: "/models/x",
      API_KEY: "secret",
      TSSERVE_NATS_PASSWORD: "agent-password",
      TSSERVE_REPLICA_NATS_PASSWORD: "replica-password",
      TSSERVE_REPLICA_ENV: "MODEL_PATH, TSSERVE_NATS_PASSWORD,,MISSING",
    });
    expect(env["PATH"]).toBe("/bin");
    expect(env["TSSERVE_LOG_LEVEL"]).toBe("debug");
    expect(env["TSSERVE_ACCESS_LOG"]).toBe("1");
    expect(env["MODEL_PATH"]).toBe("/models/x");
    expect(env["API_KEY"]).toBeUndefined();
    expect(env["MISSING"]).toBeUndefined();
    // The replica role's password, not the agent's, even when the list names the variable.
    expect(env["TSSERVE_NATS_PASSWORD"]).toBe("replica-password");
  });
});
