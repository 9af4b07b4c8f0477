import { isModelLoadError } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { ModelCache } from "./model-cache.js";

/** A class whose loads wait until the test releases them. */
class Loader {
  pending = new Map<string, () => void>();
  loads: string[] = [];
  failNextSync = false;
  loadModel(modelId: string): Promise<string> | string {
    if (this.failNextSync) {
      this.failNextSync = false;
      throw new Error("disk full");
    }
    this.loads.push(modelId);
    return new Promise((resolve) => this.pending.set(modelId, () => resolve(`model:${modelId}`)));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe("ModelCache", () => {
  it("reports a model while it loads, loads it once for concurrent calls, and reports each change", async () => {
    const loader = new Loader();
    const cache = new ModelCache(loader, 2, "D", () => {});
    let changes = 0;
    cache.onChange = () => void changes++;
    const first = cache.ensure("a");
    const second = cache.ensure("a");
    expect(cache.reported()).toEqual(["a"]);
    expect(cache.ids()).toEqual([]);
    expect(changes).toBe(1);
    await tick();
    loader.pending.get("a")!();
    expect(await first).toBe("model:a");
    expect(await second).toBe("model:a");
    expect(loader.loads).toEqual(["a"]);
    expect(cache.ids()).toEqual(["a"]);
    expect(cache.reported()).toEqual(["a"]);
    expect(changes).toBe(2);
  });

  it("fails every waiting call of a load hook that throws synchronously, and the next call tries again", async () => {
    const loader = new Loader();
    const cache = new ModelCache(loader, 2, "D", () => {});
    loader.failNextSync = true;
    const [e1, e2] = await Promise.all([
      cache.ensure("a").catch((e: unknown) => e),
      cache.ensure("a").catch((e: unknown) => e),
    ]);
    expect(e1).toBe(e2);
    expect(isModelLoadError(e1)).toBe(true);
    expect((e1 as Error).message).toBe('deployment D: loadModel("a") failed: disk full');
    expect(cache.reported()).toEqual([]);
    const again = cache.ensure("a");
    await tick();
    loader.pending.get("a")!();
    expect(await again).toBe("model:a");
  });

  it("makes room before loading, least recently used first", async () => {
    const loader = new Loader();
    const unloads: string[] = [];
    const cache = new ModelCache(
      Object.assign(loader, { unloadModel: (id: string) => void unloads.push(id) }),
      2,
      "D",
      () => {},
    );
    for (const m of ["a", "b"]) {
      const p = cache.ensure(m);
      await tick();
      loader.pending.get(m)!();
      await p;
    }
    await cache.ensure("a"); // a is now the most recently used
    const c = cache.ensure("c");
    await tick();
    expect(unloads).toEqual(["b"]);
    expect(cache.reported()).toEqual(["a", "c"]);
    loader.pending.get("c")!();
    await c;
    expect(cache.ids()).toEqual(["a", "c"]);
  });
});
