import { describe, expect, it } from "vitest";
import type { DeploymentStatusReport } from "@tsserve/protocol";
import { applicationStatus } from "./application-status.js";
import type { DeploymentRecord } from "./types.js";

const dep = (
  status: DeploymentStatusReport["status"],
  message = "",
  readyOnce = false,
  replicas = 0,
): { record: DeploymentRecord; report: DeploymentStatusReport } => ({
  record: { readyOnce } as DeploymentRecord,
  report: {
    name: "D",
    status,
    message,
    targetReplicas: 1,
    replicas: Array.from({ length: replicas }, (_, i) => ({
      replicaId: `D-${i}`,
      nodeId: "n",
      state: "DRAINING" as const,
      ongoing: 0,
      startedAt: 0,
      pid: 1,
    })),
  },
});

describe("applicationStatus (Ray Serve's application states)", () => {
  it("is RUNNING when every deployment is HEALTHY", () => {
    expect(applicationStatus(false, [dep("HEALTHY"), dep("HEALTHY")])).toEqual({
      status: "RUNNING",
      message: "",
    });
  });

  it("is DEPLOYING while a deployment is UPDATING, with its message", () => {
    expect(applicationStatus(false, [dep("HEALTHY"), dep("UPDATING", "1/2 replicas running")])).toEqual({
      status: "DEPLOYING",
      message: "D: 1/2 replicas running",
    });
  });

  it("is DEPLOY_FAILED when a deployment gave up before any replica was READY, UNHEALTHY after", () => {
    expect(applicationStatus(false, [dep("UNHEALTHY", "boom", false)]).status).toBe("DEPLOY_FAILED");
    expect(applicationStatus(false, [dep("UNHEALTHY", "boom", true)]).status).toBe("UNHEALTHY");
    // A failure outranks a deployment still updating.
    expect(applicationStatus(false, [dep("UPDATING"), dep("UNHEALTHY", "boom")]).message).toBe("D: boom");
  });

  it("is DELETING while a deleted application's replicas drain, whatever its deployments say", () => {
    expect(applicationStatus(true, [dep("UNHEALTHY", "x", false, 2)])).toEqual({
      status: "DELETING",
      message: "draining 2 replicas",
    });
  });
});
