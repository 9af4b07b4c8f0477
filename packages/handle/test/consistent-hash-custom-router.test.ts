/**
 * The custom-router example loads through the router registry by module path, exactly as its
 * app.ts and serve.yaml name it, next to the built-in ConsistentHash name.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConsistentHashRouter } from "../src/consistent-hash/consistent-hash-router.js";
import type { RouterContext } from "../src/request-router.js";
import { createRouter, resolveRouterClass } from "../src/router-registry.js";

const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../examples/custom-router");
const context: RouterContext = {
  app: "tenants",
  deployment: "TenantService",
  maxOngoingRequests: 5,
  inFlight: () => 0,
};
const replicas = ["a", "b", "c", "d"].map((replicaId) => ({ replicaId, nodeId: "n" }));

describe("router registry with the ConsistentHash and custom-router examples", () => {
  it('resolves "ConsistentHash" to ConsistentHashRouter and validates its kwargs', async () => {
    expect(await resolveRouterClass("ConsistentHash")).toBe(ConsistentHashRouter);
    await expect(
      createRouter({ class: "ConsistentHash", kwargs: { numVirtualNodes: 0 } }, context),
    ).rejects.toThrow(/numVirtualNodes must be an integer from 1 to 100000, got 0/);
  });

  it('loads "./tenant-router.ts#TenantRouter" from the example folder and routes a tenant to its home', async () => {
    const router = await createRouter(
      { class: "./tenant-router.ts#TenantRouter", kwargs: { replicasPerTenant: 2 } },
      context,
      EXAMPLE_DIR,
    );
    router.updateReplicas(replicas);
    const groups = router.chooseReplicas(replicas, {
      requestId: "q1",
      sessionId: "acme:alice",
      method: "m",
      createdAt: 0,
    });
    expect(groups.map((g) => g.length)).toEqual([2, 2]);
    const again = router.chooseReplicas(replicas, {
      requestId: "q2",
      sessionId: "acme:bob",
      method: "m",
      createdAt: 0,
    });
    expect(again[0]!.map((r) => r.replicaId)).toEqual(groups[0]!.map((r) => r.replicaId));
  });
});
