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
  /**
   * When this handle last sent a call for the model (its clock; -Infinity when never): how hot
   * the model is, as far as this handle's traffic shows.
   */
  lastUsed?(modelId: string): number;
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
/** Models whose last call a handle remembers (for choosing what to evict); the coldest go first. */
const MAX_TRACKED_MODELS = 10_000;

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
  private readonly used = new Map<string, number>();

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

  lastUsed(modelId: string): number {
    return this.used.get(modelId) ?? -Infinity;
  }

  routed(replicaId: string, modelId: string): void {
    // Newest last: the map's first key is the coldest model, dropped beyond a bound.
    this.used.delete(modelId);
    this.used.set(modelId, this.now());
    if (this.used.size > MAX_TRACKED_MODELS) this.used.delete(this.used.keys().next().value!);
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
    const reported = replica.models;
    // An entry the report confirms has done its job: from then on the report says whether the
    // model is still there (an eviction must not be overruled by this handle's memory of a send).
    // One the report has not confirmed within the window is dropped too.
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.at < since || reported.includes(e.modelId)) list.splice(i, 1);
    }
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
 * (loading there evicts nothing); when every replica is full, the replica whose coldest model (by
 * this handle's last call of it) is coldest, the two of them, so the load evicts a model nobody
 * asked for lately rather than a busy replica's LRU, on the shorter queue of the two; then every replica (the least loaded:
 * it evicts its least recently used model). Within a group the handle takes the shortest queue.
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
  if (best === null) {
    const cold = coldestVictims(candidates, models);
    if (cold.length > 0) groups.push(cold);
  }
  groups.push(candidates as ReplicaInfo[]);
  return groups;
}

/**
 * The two replicas whose least recently called reported model is coldest (empty without reports):
 * a pair, so the handle takes the shorter queue of them and loads do not pile onto one replica.
 */
function coldestVictims(candidates: readonly ReplicaInfo[], models: ModelView): ReplicaInfo[] {
  if (models.lastUsed === undefined) return [];
  const scored: { r: ReplicaInfo; at: number }[] = [];
  for (const r of candidates) {
    const held = r.models;
    if (held === undefined || held.length === 0) continue;
    let at = Infinity;
    for (const m of held) at = Math.min(at, models.lastUsed(m));
    scored.push({ r, at });
  }
  scored.sort((a, b) => a.at - b.at);
  return scored.slice(0, 2).map((x) => x.r);
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
  const groups =
    own !== undefined
      ? own.call(router, candidates, request, dir)
      : defaultModelGroups(candidates, modelId, dir);
  const first = groups[0];
  holdersFirst.set(
    request,
    first !== undefined && first.length > 0 && first.every((r) => dir.has(r, modelId)),
  );
  return groups;
}

/** Whether a multiplexed request's first group holds its model (then it is worth waiting for). */
const holdersFirst = new WeakMap<RoutingRequest, boolean>();

/**
 * Owner patience of a multiplexed call: wait for a replica with the model before loading it
 * elsewhere; a call whose first choice must load the model anyway does not wait for that one (as
 * Ray goes straight to the fewest-models replicas when no replica has the model).
 */
export function modelPatienceMs(router: RequestRouter, request: RoutingRequest): number {
  if (request.multiplexedModelId == null) return router.spillAfterMs(request);
  return holdersFirst.get(request) === false ? 0 : MODEL_MATCH_PATIENCE_MS;
}

/** The dispatcher sent a multiplexed call to `replicaId`: the model is (being) loaded there. */
export function modelSent(router: RequestRouter | null, request: RoutingRequest, replicaId: string): void {
  const modelId = request.multiplexedModelId;
  if (modelId != null && router !== null) directoryOf(router, null).routed(replicaId, modelId);
}
