import { DeploymentNotFoundError, type ReplicaInfo, type RequestRouterConfig } from "@tsserve/protocol";
import { type RoutingConfig } from "@tsserve/protocol/internal";
import type {
  MembershipListener,
  MembershipSource,
  MembershipUpdate,
} from "../membership/membership-source.js";
import type { RequestRouter, RouterContext } from "../request-router.js";
import { createRouter } from "../router-registry.js";

/** What a {@link ReplicaSet} tells its owner. */
export interface ReplicaSetEvents {
  /** The candidates, the config or the router changed: waiting requests may have somewhere to go. */
  changed(): void;
  /** Requests waiting for routing must fail with `error` (router could not be built, lookup failed). */
  failWaiting(error: Error): void;
}

/** Options of a {@link ReplicaSet}. */
export interface ReplicaSetOptions {
  /** Where the replica set and routing config come from. */
  membership: MembershipSource;
  /** Context handed to the router. */
  context: RouterContext;
  /** Directory custom router module paths resolve from. */
  cwd?: string | undefined;
  /** Builds the router a config names. @default the router registry */
  createRouter?: (
    config: Required<RequestRouterConfig>,
    context: RouterContext,
    cwd?: string,
  ) => Promise<RequestRouter>;
}

/**
 * One deployment's replicas as a handle sees them: the membership, the replicas this handle
 * dropped locally (no responders, died), the routing config, and the RequestRouter built from it.
 * `version` grows on every change of the candidates or the router, so derived state (a request's
 * ranked groups) knows when to recompute.
 */
export class ReplicaSet implements MembershipListener {
  private readonly source: MembershipSource;
  private readonly context: RouterContext;
  private readonly cwd: string | undefined;
  private readonly makeRouter: NonNullable<ReplicaSetOptions["createRouter"]>;
  private readonly dropped = new Set<string>();
  private readonly routableIds = new Set<string>();
  private members: readonly ReplicaInfo[] = [];
  private list: readonly ReplicaInfo[] = [];
  private routingConfig: RoutingConfig | null = null;
  private requestRouter: RequestRouter | null = null;
  private error: Error | null = null;
  private retiredError: Error | null = null;
  private routerKey = "";
  private unsubscribe: (() => void) | null = null;
  private lookupFailed = false;
  private closed = false;
  private changes = 0;

  constructor(
    options: ReplicaSetOptions,
    private readonly events: ReplicaSetEvents,
  ) {
    this.source = options.membership;
    this.context = options.context;
    this.cwd = options.cwd;
    this.makeRouter = options.createRouter ?? createRouter;
  }

  /** Membership replicas minus the locally dropped ones (the same array until the next change). */
  get candidates(): readonly ReplicaInfo[] {
    return this.list;
  }

  /** Routing config of the last membership update; null until the first. */
  get config(): RoutingConfig | null {
    return this.routingConfig;
  }

  /** The router built from the config; null while it is being built or when building failed. */
  get router(): RequestRouter | null {
    return this.requestRouter;
  }

  /** Why the configured router could not be built; null when it could. */
  get routerError(): Error | null {
    return this.error;
  }

  /** DeploymentNotFoundError while the controller says the deployment was deleted; else null. */
  get retired(): Error | null {
    return this.retiredError;
  }

  /** Grows on every change of candidates, config or router. */
  get version(): number {
    return this.changes;
  }

  /** Ids of the candidates. */
  get routable(): ReadonlySet<string> {
    return this.routableIds;
  }

  /** True when `replicaId` is a candidate. */
  isRoutable(replicaId: string): boolean {
    return this.routableIds.has(replicaId);
  }

  /** Subscribes to the membership on first use; a new request after a failed lookup asks again. */
  start(): void {
    if (this.closed) return;
    if (this.unsubscribe === null) this.unsubscribe = this.source.subscribe(this);
    else if (this.lookupFailed && this.routingConfig === null) {
      this.lookupFailed = false;
      this.source.refresh?.();
    }
  }

  /** Stops following the membership for good. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** MembershipListener: a newer replica set. */
  onUpdate(update: MembershipUpdate): void {
    if (this.closed) return;
    const wasRetired = this.retiredError !== null;
    this.retiredError =
      update.retired === true
        ? new DeploymentNotFoundError(
            `deployment ${JSON.stringify(this.context.deployment)} of application ${JSON.stringify(this.context.app)} was deleted`,
            { data: { app: this.context.app, deployment: this.context.deployment } },
          )
        : null;
    if (this.retiredError !== null && !wasRetired) this.events.failWaiting(this.retiredError);
    this.members = update.replicas;
    this.routingConfig = update.config;
    // "Dropped until the membership lists it again": a new set re-admits everyone it lists.
    this.dropped.clear();
    this.recompute();
    const key = JSON.stringify(update.config.requestRouter);
    if (key !== this.routerKey) {
      this.routerKey = key;
      this.requestRouter = null;
      this.error = null;
      this.makeRouter(update.config.requestRouter, this.context, this.cwd).then(
        (router) => {
          if (this.routerKey !== key || this.closed) return;
          router.updateReplicas(this.members);
          this.requestRouter = router;
          this.changes++;
          this.events.changed();
        },
        (error: unknown) => {
          if (this.routerKey !== key || this.closed) return;
          this.error = error instanceof Error ? error : new Error(String(error));
          this.changes++;
          this.events.failWaiting(this.error);
        },
      );
    } else {
      this.requestRouter?.updateReplicas(this.members);
    }
    this.events.changed();
  }

  /** MembershipListener: the lookup failed for good (e.g. DeploymentNotFoundError). */
  onError(error: Error): void {
    if (this.routingConfig !== null) return; // keep routing on the set we have
    this.lookupFailed = true;
    this.events.failWaiting(error);
  }

  /** Drops a replica locally (it is gone) until a membership update lists it again. */
  drop(replicaId: string): boolean {
    if (!this.routableIds.has(replicaId)) return false;
    this.dropped.add(replicaId);
    this.recompute();
    try {
      this.requestRouter?.onReplicaDied?.(replicaId);
    } catch {
      // A router hook must not break routing.
    }
    return true;
  }

  private recompute(): void {
    this.routableIds.clear();
    const list: ReplicaInfo[] = [];
    for (const r of this.members) {
      if (this.dropped.has(r.replicaId) || this.routableIds.has(r.replicaId)) continue;
      this.routableIds.add(r.replicaId);
      list.push(r);
    }
    this.list = list;
    this.changes++;
  }
}
