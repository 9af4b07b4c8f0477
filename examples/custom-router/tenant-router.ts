/**
 * TenantRouter — a user-written request router, loaded by module path:
 *
 *   requestRouter: { class: "./tenant-router.ts#TenantRouter", kwargs: { replicasPerTenant: 2 } }
 *
 * Multi-tenant services often keep per-tenant state warm (a model adapter, a schema cache, a
 * connection pool). This router gives each tenant a small home set of replicas and keeps all of the
 * tenant's users on it, while spreading the users of one tenant over that set by queue length.
 *
 * - The tenant is the session id up to the first `:` (`"acme:alice"` → `"acme"`); a session id
 *   without one is its own tenant, and a request without a session id has no tenant.
 * - Home replicas come from rendezvous (highest-random-weight) hashing: score every replica by
 *   hash(tenant, replicaId) and take the `replicasPerTenant` best. Adding or removing a replica only
 *   moves the tenants that ranked it in their top set, and every handle computes the same sets with
 *   no coordination.
 * - It returns two ranked groups, `[[home replicas…], [every other replica]]`: the handle picks the
 *   shortest queue within the home group and spills to the rest only when every home replica is
 *   full (maxOngoingRequests), so one noisy tenant degrades gracefully instead of queueing forever.
 */
import {
  ConfigError,
  RequestRouter,
  type ReplicaInfo,
  type RouterContext,
  type RoutingRequest,
} from "tsserve";

/** Kwargs of {@link TenantRouter}. */
export interface TenantRouterOptions {
  /** How many replicas serve one tenant (its home set). An integer >= 1. @default 2 */
  replicasPerTenant?: number;
  /** Separates the tenant id from the rest of the session id. A non-empty string. @default ":" */
  separator?: string;
}

/** FNV-1a (32-bit) of a string's UTF-16 code units: small, fast, and good enough to rank replicas. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so that ids differing only in their last character still score apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Routes every session of a tenant to the tenant's home replicas (see the module comment). */
export class TenantRouter extends RequestRouter {
  /** Validated `replicasPerTenant`. */
  readonly replicasPerTenant: number;
  /** Validated `separator`. */
  readonly separator: string;
  // Home sets are derived per membership change, never per request: tenant → replica ids.
  private readonly homes = new Map<string, ReadonlySet<string>>();

  constructor(context: RouterContext, kwargs: Record<string, unknown> = {}) {
    super(context, kwargs);
    for (const key of Object.keys(kwargs)) {
      if (key !== "replicasPerTenant" && key !== "separator") {
        throw new ConfigError(
          `TenantRouter: unknown kwarg ${JSON.stringify(key)}; known kwargs are replicasPerTenant, separator`,
        );
      }
    }
    const perTenant = kwargs["replicasPerTenant"] ?? 2;
    if (typeof perTenant !== "number" || !Number.isInteger(perTenant) || perTenant < 1) {
      throw new ConfigError(
        `TenantRouter: replicasPerTenant must be an integer >= 1, got ${JSON.stringify(perTenant)}`,
      );
    }
    const separator = kwargs["separator"] ?? ":";
    if (typeof separator !== "string" || separator.length === 0) {
      throw new ConfigError(
        `TenantRouter: separator must be a non-empty string, got ${JSON.stringify(separator)}`,
      );
    }
    this.replicasPerTenant = perTenant;
    this.separator = separator;
  }

  /** The tenant of a session id: the part before the separator, or the whole id. */
  tenantOf(sessionId: string | null): string | null {
    if (sessionId === null || sessionId === "") return null;
    const cut = sessionId.indexOf(this.separator);
    return cut > 0 ? sessionId.slice(0, cut) : sessionId;
  }

  /** The tenant's home replica ids, best first (rendezvous hashing over the current replicas). */
  homeOf(tenant: string): ReadonlySet<string> {
    let home = this.homes.get(tenant);
    if (home === undefined) {
      const ranked = this.replicas
        .map((r) => ({ id: r.replicaId, score: fnv1a(`${tenant}\u0000${r.replicaId}`) }))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
      home = new Set(ranked.slice(0, this.replicasPerTenant).map((r) => r.id));
      // A memo, not state: forget it all rather than grow without bound with many tenants.
      if (this.homes.size >= 10_000) this.homes.clear();
      this.homes.set(tenant, home);
    }
    return home;
  }

  override updateReplicas(replicas: readonly ReplicaInfo[]): void {
    super.updateReplicas(replicas);
    // Home sets depend on the replica set only; recompute them lazily on the next request.
    this.homes.clear();
  }

  override chooseReplicas(candidates: readonly ReplicaInfo[], request: RoutingRequest): ReplicaInfo[][] {
    if (candidates.length === 0) return [];
    const tenant = this.tenantOf(request.sessionId);
    // No tenant: any replica will do, the shortest queue wins.
    if (tenant === null) return [[...candidates]];
    const home = this.homeOf(tenant);
    const inHome: ReplicaInfo[] = [];
    const others: ReplicaInfo[] = [];
    for (const c of candidates) (home.has(c.replicaId) ? inHome : others).push(c);
    // A home replica that died is not a candidate; the others still are, so the tenant is served.
    if (inHome.length === 0) return [others];
    return others.length === 0 ? [inHome] : [inHome, others];
  }
}
