/**
 * Model multiplexing end to end: a real nats-server, two real replica processes of a multiplexed
 * deployment (2 models each), a real client with static membership.
 */
import { fileURLToPath } from "node:url";
import { isBadRequestError, isMethodNotFoundError, isModelLoadError } from "@tsserve/protocol";
import { startNats, startReplicas, type NatsFixture, type ReplicaGroup } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client, type DeploymentHandle } from "../src/index.js";
import type { Models } from "./fixtures/multiplex-app.js";
import { errorOf } from "./helpers/error-of.js";

const cwd = fileURLToPath(new URL("./fixtures", import.meta.url));

describe("model multiplexing (2 replica processes × 2 model slots)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;
  let handle: DeploymentHandle<Models>;
  const model = (id: string) => handle.options({ multiplexedModelId: id });

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas(
      {
        url: nats.url,
        cwd,
        importPath: "multiplex-app.ts#app",
        deployment: "Models",
        ids: ["m0", "m1"],
        options: { maxOngoingRequests: 8, multiplexed: { maxModelsPerReplica: 2 } },
      },
      { nc: nats.nc },
    );
    client = await connect({ address: nats.url });
    handle = client.getDeploymentHandle<Models>("Models", {
      app: "app",
      membership: staticMembership({
        replicas: replicas.infos,
        config: { maxOngoingRequests: 8, maxModelsPerReplica: 2 },
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  /** Every replica's stats (stats calls carry no model id, so they land anywhere: ask until both answered). */
  const allStats = async () => {
    const by = new Map<string, Awaited<ReturnType<Models["stats"]>>>();
    // 16 at once: more than one replica's 8 slots, so both answer.
    for (let round = 0; round < 5 && by.size < 2; round++) {
      for (const s of await Promise.all(Array.from({ length: 16 }, () => handle.stats.remote())))
        by.set(s.replica, s);
    }
    expect(by.size).toBe(2);
    return [...by.values()];
  };

  it("loads a model once for concurrent first calls, and the call sees its model id and model", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => model("a").predict.remote(i)));
    expect(new Set(results.map((r) => r.replica)).size).toBe(1);
    for (const r of results) expect(r).toMatchObject({ modelId: "a", model: "a" });
    const stats = await allStats();
    expect(stats.flatMap((s) => s.loads)).toEqual(["a"]);
    expect(Math.max(...stats.map((s) => s.maxConcurrentLoadsOfOne))).toBe(1);
  });

  it("sends a model where it is loaded, new models to free slots, and evicts LRU beyond the slots", async () => {
    const a = (await model("a").predict.remote(1)).replica;
    expect((await model("a").predict.remote(2)).replica).toBe(a);
    const b = (await model("b").predict.remote(1)).replica;
    expect(b).not.toBe(a); // the other replica had two free slots, a's one
    await model("c").predict.remote(1);
    expect((await allStats()).flatMap((s) => s.unloads)).toEqual([]); // 3 models in 4 slots
    await model("d").predict.remote(1);
    await model("e").predict.remote(1);
    const stats = await allStats();
    expect(stats.flatMap((s) => s.unloads).length).toBeGreaterThan(0);
    // No model was loaded twice on one replica.
    for (const s of stats) expect(new Set(s.loads).size).toBe(s.loads.length);
  });

  it("fails a call whose model does not load with ModelLoadError naming the model, and keeps serving", async () => {
    const e = await errorOf(model("broken").predict.remote(1));
    expect(isModelLoadError(e)).toBe(true);
    expect((e as Error).message).toContain('loadModel("broken") failed: weights not found');
    expect((await model("a").predict.remote(3)).y).toBe(6);
  });

  it("refuses bad model ids at the handle and never lets callers reach the hooks", async () => {
    expect(() => handle.options({ multiplexedModelId: "" })).toThrow(
      /multiplexedModelId must be a non-empty string/,
    );
    expect(() => handle.options({ multiplexedModelId: "x".repeat(201) })).toThrow(/at most 200 characters/);
    let bad: unknown;
    try {
      handle.options({ multiplexedModelId: "a\nb" });
    } catch (e) {
      bad = e;
    }
    expect(isBadRequestError(bad)).toBe(true);
    expect(isMethodNotFoundError(await errorOf(handle.options({ method: "loadModel" }).remote("x")))).toBe(
      true,
    );
    expect(isMethodNotFoundError(await errorOf(handle.options({ method: "unloadModel" }).remote("a")))).toBe(
      true,
    );
  });
});
