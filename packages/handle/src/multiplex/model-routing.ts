import type { ReplicaInfo } from "@tsserve/protocol";
import type { RoutingConfig } from "@tsserve/protocol/internal";
import type { RequestRouter, RoutingRequest } from "../request-router.js";

/** Ray's default `max_num_models_per_replica`, assumed when the routing config does not say. */
const DEFAULT_MAX_MODELS = 3;
/**
 * How long a call waits for a replica that has its model before it may take one that must load it
 * (Ray's `RAY_SERVE_MULTIPLEXED_MODEL_ID_MATCHING_TIMEOUT_S` is 1 s): a load takes seconds, a slot
 * on a replica holding the model frees within a call's time.
 */
export const MODEL_MATCH_PATIENCE_MS = 1000;

/** What a router may read about where models are. */
export interface ModelView {
  /** Models one replica holds at most. */
  readonly maxModelsPerReplica: number;
  /** True when the replica has (or is loading, as far as this handle knows) the model. */
  has(replica: ReplicaInfo, modelId: string): boolean;
  /** Models the replica is believed to hold. */
  count(replica: ReplicaInfo): number;
}

/** A router that ranks multiplexed calls itself (the default ranking is {@link defaultModelGroups}). */
interface ModelAwareRouter {
  chooseForModel?(
    candidates: readonly ReplicaInfo[],
    request: RoutingRequest,
    models: ModelView,
  ): ReplicaInfo[][];
}

/**
 * How long this handle trusts its own record of sending a model to a replica that reports its
 * models: long enough for the replica's report of the load (sent at once when it starts) to come
 * back through the controller's membership, short enough that an eviction the replica reported is
 * believed soon after.
 */
export const LOCAL_MODEL_BELIEF_MS = 2000;

/**
 * Where this handle believes each replica's models are: what the replicas report (heartbeats,
 * copied by the controller into the membership's `models`: loaded and loading), together with what
 * this handle sent where, in a per-replica LRU as long as the replica's own. The local part makes
 * a model's second call follow its first at once, before the report, so concurrent first calls do
 * not load it on several replicas. Where a replica reports its models, a local entry counts only
 * for {@link LOCAL_MODEL_BELIEF_MS} (the report is the truth after that); without reports (static
 * membership, an older controller) the local LRU is all there is.
 */
export class ModelDirectory implements ModelView {
  maxModelsPerReplica = DEFAULT_MAX_MODELS;
  private readonly sent = new Map<string, { modelId: string; at: number }[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  has(replica: ReplicaInfo, modelId: string): boolean {
    if (replica.models?.includes(modelId) === true) return true;
    return this.local(replica).some((e) => e.modelId === modelId);
  }

  count(replica: ReplicaInfo): number {
    const reported = replica.models ?? [];
    let n = reported.length;
    for (const e of this.local(replica)) if (!reported.includes(e.modelId)) n++;
    return Math.min(n, this.maxModelsPerReplica);
  }

  routed(replicaId: string, modelId: string): void {
    let list = this.sent.get(replicaId);
    if (list === undefined) this.sent.set(replicaId, (list = []));
    const i = list.findIndex((e) => e.modelId === modelId);
    if (i >= 0) list.splice(i, 1);
    list.push({ modelId, at: this.now() });
    if (list.length > this.maxModelsPerReplica) list.shift();
  }

  /** This handle's entries for a replica that still count. */
  private local(replica: ReplicaInfo): readonly { modelId: string; at: number }[] {
    const list = this.sent.get(replica.replicaId);
    if (list === undefined || replica.models === undefined) return list ?? [];
    const since = this.now() - LOCAL_MODEL_BELIEF_MS;
    // Oldest first: drop the entries the replica's reports have superseded.
    while (list.length > 0 && list[0]!.at < since) list.shift();
    return list;
  }
}

const directories = new WeakMap<RequestRouter, ModelDirectory>();
function directoryOf(router: RequestRouter, config: RoutingConfig | null): ModelDirectory {
  let d = directories.get(router);
  if (d === undefined) directories.set(router, (d = new ModelDirectory()));
  // Without a config (a send) keep the last one's bound rather than fall back to the default.
  if (config !== null) d.maxModelsPerReplica = config.maxModelsPerReplica ?? DEFAULT_MAX_MODELS;
  return d;
}

/**
 * Ranks for a multiplexed call: replicas that have the model, then replicas with a free model slot
 * (loading there evicts nothing), then every replica (the least loaded: it will evict its least
 * recently used model). Within a group the handle takes the shortest queue.
 */
export function defaultModelGroups(
  candidates: readonly ReplicaInfo[],
  modelId: string,
  models: ModelView,
): ReplicaInfo[][] {
  const withModel: ReplicaInfo[] = [];
  const free: ReplicaInfo[] = [];
  let best: ReplicaInfo | null = null;
  let bestKey = -1;
  for (const r of candidates) {
    if (models.has(r, modelId)) withModel.push(r);
    else if (models.count(r) < models.maxModelsPerReplica) {
      free.push(r);
      // A new model goes to one replica, not the emptiest of several: the most free slots, ties by
      // rendezvous hash, so concurrent first calls (and other handles) pick the same replica.
      const key = (models.maxModelsPerReplica - models.count(r)) * 2 ** 32 + rendezvous(r.replicaId, modelId);
      if (key > bestKey) [best, bestKey] = [r, key];
    }
  }
  const groups: ReplicaInfo[][] = [];
  if (withModel.length > 0) groups.push(withModel);
  if (best !== null) groups.push([best]);
  if (free.length > 1) groups.push(free);
  groups.push(candidates as ReplicaInfo[]);
  return groups;
}

function rendezvous(replicaId: string, modelId: string): number {
  let h = 0x811c9dc5;
  for (const part of [replicaId, modelId]) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The dispatcher's hook for calls with a model id: the router's `chooseForModel` if it has one,
 * else {@link defaultModelGroups}; other calls go to `chooseReplicas` as always.
 */
export function chooseGroups(
  router: RequestRouter,
  config: RoutingConfig | null,
  candidates: readonly ReplicaInfo[],
  request: RoutingRequest,
): ReplicaInfo[][] {
  const modelId = request.multiplexedModelId;
  if (modelId == null) return router.chooseReplicas(candidates, request);
  const dir = directoryOf(router, config);
  const own = (router as ModelAwareRouter).chooseForModel;
  return own !== undefined
    ? own.call(router, candidates, request, dir)
    : defaultModelGroups(candidates, modelId, dir);
}

/** Owner patience of a multiplexed call: wait for a replica with the model before loading it elsewhere. */
export function modelPatienceMs(router: RequestRouter, request: RoutingRequest): number {
  return request.multiplexedModelId == null ? router.spillAfterMs(request) : MODEL_MATCH_PATIENCE_MS;
}

/** The dispatcher sent a multiplexed call to `replicaId`: the model is (being) loaded there. */
export function modelSent(router: RequestRouter | null, request: RoutingRequest, replicaId: string): void {
  const modelId = request.multiplexedModelId;
  if (modelId != null && router !== null) directoryOf(router, null).routed(replicaId, modelId);
}
