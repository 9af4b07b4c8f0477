import { ModelLoadError } from "@tsserve/protocol";

/** The class method that loads a model (Ray's `@serve.multiplexed` function); never callable remotely. */
export const LOAD_MODEL_HOOK = "loadModel";
/** The optional class method that frees an evicted model; never callable remotely. */
export const UNLOAD_MODEL_HOOK = "unloadModel";

type LoadFn = (modelId: string) => unknown;
type UnloadFn = (modelId: string, model: unknown) => unknown;

/**
 * The models one replica of a multiplexed deployment holds: at most `maxModels`, least recently
 * used evicted first through the class's `unloadModel(modelId, model)`. A model's first calls share
 * one `loadModel(modelId)` (a promise per model id being loaded), so concurrent first calls load it
 * once; a failed load is a {@link ModelLoadError} for every call that waited on it, and the next
 * call tries again. Room is made before loading, as Ray does, so memory never holds max + 1 models.
 */
export class ModelCache {
  private readonly loaded = new Map<string, unknown>();
  private readonly loading = new Map<string, Promise<unknown>>();
  private readonly loadFn: LoadFn | undefined;
  private readonly unloadFn: UnloadFn | undefined;
  /** Called after the loaded set changed (the heartbeat reports it at once). */
  onChange: () => void = () => undefined;
  /** Loads started, for tests and metrics. */
  loads = 0;

  constructor(
    private readonly instance: object,
    readonly maxModels: number,
    private readonly deployment: string,
    private readonly log: (line: string) => void,
  ) {
    const i = instance as Record<string, unknown>;
    this.loadFn = typeof i[LOAD_MODEL_HOOK] === "function" ? (i[LOAD_MODEL_HOOK] as LoadFn) : undefined;
    this.unloadFn =
      typeof i[UNLOAD_MODEL_HOOK] === "function" ? (i[UNLOAD_MODEL_HOOK] as UnloadFn) : undefined;
  }

  /** Loaded model ids, least recently used first. */
  ids(): string[] {
    return [...this.loaded.keys()];
  }

  /**
   * What the heartbeat reports: the loaded ids, least recently used first, then those being
   * loaded. A load in progress is reported so that other handles send that model's calls here
   * (where they wait for the one load) rather than load it on a second replica.
   */
  reported(): string[] {
    const ids = this.ids();
    for (const m of this.loading.keys()) if (!this.loaded.has(m)) ids.push(m);
    return ids;
  }

  /** The loaded model, or undefined. */
  peek(modelId: string): unknown {
    return this.loaded.get(modelId);
  }

  /** The model, loading it first when needed; refreshes its place in the LRU order. */
  ensure(modelId: string): Promise<unknown> {
    if (this.loaded.has(modelId)) {
      const model = this.loaded.get(modelId);
      this.loaded.delete(modelId);
      this.loaded.set(modelId, model);
      return Promise.resolve(model);
    }
    let p = this.loading.get(modelId);
    if (p === undefined) {
      // Started in a microtask, so it is listed before its `finally` can run: a loadModel that
      // throws synchronously must not leave its rejection cached for every later call.
      p = Promise.resolve().then(() => this.load(modelId));
      this.loading.set(modelId, p);
      this.onChange();
    }
    return p;
  }

  private async load(modelId: string): Promise<unknown> {
    try {
      if (this.loadFn === undefined) {
        throw new ModelLoadError(
          `deployment ${this.deployment} is multiplexed but its class has no ${LOAD_MODEL_HOOK}(modelId) method`,
          { data: { modelId } },
        );
      }
      while (this.loaded.size >= this.maxModels) await this.evictOldest();
      this.loads++;
      let model: unknown;
      try {
        model = await this.loadFn.call(this.instance, modelId);
      } catch (e) {
        throw new ModelLoadError(
          `deployment ${this.deployment}: ${LOAD_MODEL_HOOK}(${JSON.stringify(modelId)}) failed: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e, data: { modelId } },
        );
      }
      // Another model may have loaded meanwhile: keep the bound.
      while (this.loaded.size >= this.maxModels) await this.evictOldest();
      this.loaded.set(modelId, model);
      this.onChange();
      return model;
    } finally {
      this.loading.delete(modelId);
      // A failed load is reported gone too (a loaded one was reported by the set above).
      if (!this.loaded.has(modelId)) this.onChange();
    }
  }

  private async evictOldest(): Promise<void> {
    const oldest = this.loaded.keys().next();
    if (oldest.done === true) return;
    const modelId = oldest.value;
    const model = this.loaded.get(modelId);
    this.loaded.delete(modelId);
    this.onChange();
    try {
      await this.unloadFn?.call(this.instance, modelId, model);
    } catch (e) {
      // The model is gone from the cache either way; a failing unload is worth a line, not a failed call.
      this.log(
        `${UNLOAD_MODEL_HOOK}(${JSON.stringify(modelId)}) threw: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
