import { isConfigError, type ReplicaInfo, type RouterContext, type RoutingRequest } from "tsserve";
import { describe, expect, it } from "vitest";
import { TenantRouter } from "./tenant-router.js";

const context: RouterContext = {
  app: "tenants",
  deployment: "TenantService",
  maxOngoingRequests: 5,
  inFlight: () => 0,
};
const reps = (n: number): ReplicaInfo[] =>
  Array.from({ length: n }, (_, i) => ({ replicaId: `rep-${i}`, nodeId: "n" }));
let seq = 0;
const req = (sessionId: string | null): RoutingRequest => ({
  requestId: `q${++seq}`,
  sessionId,
  method: "__call__",
  createdAt: 0,
});
const ids = (group: ReplicaInfo[] | undefined): string[] => (group ?? []).map((r) => r.replicaId).sort();

describe("TenantRouter", () => {
  it("sends every user of a tenant to the same home group, then everyone else", () => {
    const all = reps(6);
    const router = new TenantRouter(context, { replicasPerTenant: 2 });
    router.updateReplicas(all);
    const [home, rest] = router.chooseReplicas(all, req("acme:alice"));
    expect(home).toHaveLength(2);
    expect(rest).toHaveLength(4);
    for (const user of ["bob", "carol", "dave", "erin"]) {
      expect(ids(router.chooseReplicas(all, req(`acme:${user}`))[0])).toEqual(ids(home));
    }
    // Tenants are spread: 20 tenants do not all share one home.
    const homes = new Set(
      Array.from({ length: 20 }, (_, t) => ids(router.chooseReplicas(all, req(`t${t}:u`))[0]).join()),
    );
    expect(homes.size).toBeGreaterThan(3);
  });

  it("offers every candidate in one group to requests without a session", () => {
    const all = reps(4);
    const router = new TenantRouter(context);
    router.updateReplicas(all);
    expect(router.chooseReplicas(all, req(null))).toEqual([all]);
    expect(router.chooseReplicas([], req("acme:x"))).toEqual([]);
  });

  it("keeps a tenant's home when an unrelated replica leaves, and serves it when its home dies", () => {
    const all = reps(6);
    const router = new TenantRouter(context, { replicasPerTenant: 2 });
    router.updateReplicas(all);
    const home = ids(router.chooseReplicas(all, req("acme:a"))[0]);
    const fewer = all.filter((r) => r.replicaId !== all.find((x) => !home.includes(x.replicaId))!.replicaId);
    router.updateReplicas(fewer);
    expect(ids(router.chooseReplicas(fewer, req("acme:a"))[0])).toEqual(home);
    const withoutHome = fewer.filter((r) => !home.includes(r.replicaId));
    expect(ids(router.chooseReplicas(withoutHome, req("acme:a"))[0])).toEqual(ids(withoutHome));
  });

  it("rejects bad kwargs with a ConfigError naming the kwarg and value", () => {
    for (const kwargs of [
      { replicasPerTenant: 0 },
      { replicasPerTenant: "two" },
      { separator: "" },
      { tenants: 3 },
    ]) {
      let err: unknown;
      try {
        new TenantRouter(context, kwargs);
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err)).toBe(true);
      expect((err as Error).message).toContain(Object.keys(kwargs)[0]!);
    }
  });
});
