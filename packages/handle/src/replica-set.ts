import type { ReplicaInfo, RequestRouterConfig, RoutingConfig } from "@tsserve/protocol";
import type {
  MembershipListener,
  MembershipSource,
  MembershipUpdate,
} from "./membership/membership-source.js";
import type { HandleMetricsSink } from "./metrics-sink.js";
import type { PendingRequest } from "./pending-request.js";
import { QueueLengthCache } from "./queue-length-cache.js";
import type { RequestRouter, RouterContext } from "./request-router.js";
import { createRouter } from "./router-registry.js";

/** Options shared by the routing state of one deployment. */
export interface ReplicaSetOptions {
  app: string;
  deployment: string;
  /** Where the replica set and routing config come from. */
  membership: MembershipSource;
  metrics?: HandleMetricsSink | undefined;
  /** Directory custom router module paths resolve from. */
  cwd?: string | undefined;
  /** Clock in milliseconds (monotonic); tests may replace it. @default performance.now */
  now?: () => number;
  /** Builds the router a config names. @default the router registry */
  createRouter?: (
    config: Required<RequestRouterConfig>,
    context: RouterContext,
    cwd?: string,
  ) => Promise<RequestRouter>;
}

/**
 * The routing state of one deployment as a handle sees it: the membership, the replicas dropped
 * locally, the router built from the config, the queue-length cache and the in-flight counts. The
 * routing loop ({@link DeploymentRouter}) builds on it.
 */
export abstract class ReplicaSet implements MembershipListener {
  readonly app: string;
  readonly deployment: string;
  /** `app/deployment`, for messages. */
  readonly label: string;
  readonly cache: QueueLengthCache;
  /** Requests not yet accepted by a replica (what maxQueuedRequests limits). */
  queued = 0;
  /** Requests sent and not yet answered. */
  inFlightTotal = 0;
  /** Every request from submit to finish. */
  readonly pending = new Set<PendingRequest>();
  /** Routing config of the last membership update; null until the first. */
  config: RoutingConfig | null = null;
  /** The router built from `config.requestRouter`; null while it is being created or failed. */
  router: RequestRouter | null = null;
  /** Why the configured router could not be created; requests fail with it until the config changes. */
  routerError: Error | null = null;
  /** Membership replicas minus the locally dropped ones. */
  candidates: readonly ReplicaInfo[] = [];
  /** Ids of {@link candidates}. */
  readonly routable = new Set<string>();
  protected readonly metrics: HandleMetricsSink | undefined;
  protected readonly now: () => number;
  protected closedError: Error | null = null;
  private readonly source: MembershipSource;
  private readonly cwd: string | undefined;
  private readonly makeRouter: NonNullable<ReplicaSetOptions["createRouter"]>;
  private readonly inFlightByReplica = new Map<string, number>();
  private readonly dropped = new Set<string>();
  private members: readonly ReplicaInfo[] = [];
  private routerKey = "";
  private unsubscribe: (() => void) | null = null;
  private lookupFailed = false;
  private changeResolve: (() => void) | null = null;
  private changePromise: Promise<void> | null = null;
  /** The context handed to the router. */
  readonly context: RouterContext;

  constructor(options: ReplicaSetOptions) {
    this.app = options.app;
    this.deployment = options.deployment;
    this.label = `${options.app}/${options.deployment}`;
    this.source = options.membership;
    this.metrics = options.metrics;
    this.cwd = options.cwd;
    this.now = options.now ?? performance.now.bind(performance);
    this.makeRouter = options.createRouter ?? createRouter;
    this.cache = new QueueLengthCache(undefined, this.now);
    const config = (): RoutingConfig | null => this.config;
    this.context = {
      app: this.app,
      deployment: this.deployment,
      get maxOngoingRequests() {
        return config()?.maxOngoingRequests ?? 0;
      },
      inFlight: (replicaId) => this.inFlightByReplica.get(replicaId) ?? 0,
      reportRebuild: (ms) => this.metrics?.routerRebuilt?.(this.app, this.deployment, ms),
    };
  }

  /** Subscribes to the membership on first use. */
  protected start(): void {
    if (this.unsubscribe === null) this.unsubscribe = this.source.subscribe(this);
  }

  protected stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** A new request after a failed lookup asks again: the deployment may exist by now. */
  protected retryLookupIfFailed(): void {
    if (this.lookupFailed && this.config === null) {
      this.lookupFailed = false;
      this.source.refresh?.();
    }
  }

  /** Resolves at the next membership or router change. */
  changed(): Promise<void> {
    return (this.changePromise ??= new Promise<void>((r) => (this.changeResolve = r)));
  }

  private notify(): void {
    const r = this.changeResolve;
    this.changePromise = null;
    this.changeResolve = null;
    r?.();
  }

  /** MembershipListener: a newer replica set. */
  onUpdate(update: MembershipUpdate): void {
    if (this.closedError !== null) return;
    this.members = update.replicas;
    this.config = update.config;
    // "Dropped until the membership lists it again": a new set re-admits everyone it lists.
    this.dropped.clear();
    this.recomputeCandidates();
    this.cache.prune(this.routable);
    const key = JSON.stringify(update.config.requestRouter);
    if (key !== this.routerKey) {
      this.routerKey = key;
      this.router = null;
      this.routerError = null;
      this.makeRouter(update.config.requestRouter, this.context, this.cwd).then(
        (router) => {
          if (this.routerKey !== key) return;
          router.updateReplicas(this.members);
          this.router = router;
          this.notify();
        },
        (error: unknown) => {
          if (this.routerKey !== key) return;
          this.routerError = error instanceof Error ? error : new Error(String(error));
          this.failWaiting(this.routerError);
          this.notify();
        },
      );
    } else {
      this.router?.updateReplicas(this.members);
    }
    this.notify();
  }

  /** MembershipListener: the lookup failed for good (e.g. DeploymentNotFoundError). */
  onError(error: Error): void {
    if (this.config !== null) return; // keep routing on the set we have
    this.lookupFailed = true;
    this.failWaiting(error);
  }

  /** Fails the requests still waiting to be routed. */
  protected abstract failWaiting(error: Error): void;

  /** Drops a replica locally (it is gone) until a membership update lists it again. */
  drop(replicaId: string): void {
    if (!this.routable.has(replicaId)) return;
    this.dropped.add(replicaId);
    this.cache.invalidate(replicaId);
    this.recomputeCandidates();
    try {
      this.router?.onReplicaDied?.(replicaId);
    } catch {
      // A router hook must not break routing.
    }
  }

  protected learnQueueLen(replicaId: string, queueLen: number): void {
    this.cache.set(replicaId, queueLen);
    this.metrics?.queueLength?.(this.app, this.deployment, replicaId, queueLen);
  }

  protected addInFlight(replicaId: string, delta: number): void {
    this.inFlightTotal += delta;
    const n = (this.inFlightByReplica.get(replicaId) ?? 0) + delta;
    if (n <= 0) this.inFlightByReplica.delete(replicaId);
    else this.inFlightByReplica.set(replicaId, n);
  }

  private recomputeCandidates(): void {
    this.routable.clear();
    const list: ReplicaInfo[] = [];
    for (const r of this.members) {
      if (this.dropped.has(r.replicaId) || this.routable.has(r.replicaId)) continue;
      this.routable.add(r.replicaId);
      list.push(r);
    }
    this.candidates = list;
  }
}
