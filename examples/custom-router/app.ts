/**
 * 05 · custom-router — a user-written RequestRouter named by module path.
 *
 * `TenantRouter` (./tenant-router.ts) keeps every user of a tenant on the tenant's two home
 * replicas, where that tenant's warm state lives. Session ids look like `"<tenant>:<user>"`.
 * Each call answers with the replica that served it and how many calls of this tenant that replica
 * has seen, so you can watch tenants stay home.
 */
import { deployment, getReplicaContext, getRequestContext } from "tsserve";

/** One answer: where the call ran and how warm that replica is for the caller's tenant. */
export interface TenantReply {
  replica: string;
  tenant: string;
  /** Calls of this tenant this replica has served, this one included. */
  tenantCalls: number;
  input: unknown;
}

export class TenantService {
  // Per-tenant state held in replica memory (in real life: a cache, an adapter, a pool).
  private readonly callsByTenant = new Map<string, number>();

  /** What `handle.remote(x)` and `POST /tenants` (with `x-session-id: acme:alice`) call. */
  async __call__(input: unknown): Promise<TenantReply> {
    const session = getRequestContext()?.sessionId ?? "";
    const cut = session.indexOf(":");
    const tenant = cut > 0 ? session.slice(0, cut) : session || "(none)";
    const calls = (this.callsByTenant.get(tenant) ?? 0) + 1;
    this.callsByTenant.set(tenant, calls);
    // A short pause so that concurrent calls overlap and queue lengths mean something.
    await new Promise((r) => setTimeout(r, 2));
    return { replica: getReplicaContext().replicaId, tenant, tenantCalls: calls, input };
  }
}

export const app = deployment({
  numReplicas: 4,
  maxOngoingRequests: 5,
  // A module path: every process holding a handle to this deployment resolves it from its working
  // directory, so run `tsserve start` and `tsserve deploy` from this folder (see README.md).
  requestRouter: { class: "./tenant-router.ts#TenantRouter", kwargs: { replicasPerTenant: 2 } },
})(TenantService).bind();
