/**
 * Ray's `serve_multiplexed_model_id` header through the HTTP proxy (issue 21): it routes the call
 * with its model, a bad id is a 400 naming the header, and a failing load hook a 500
 * MODEL_LOAD_FAILED naming the model. Real nats-server, real replica processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type Proxy } from "../src/index.js";
import { PREFIX, startTestCluster, type TestCluster } from "./test-cluster.js";

interface ErrorJson {
  error: { code: string; name: string; message: string };
}

describe("HTTP proxy: multiplexed model ids", () => {
  let cluster: TestCluster;
  let proxy: Proxy;
  const post = (headers: Record<string, string>) =>
    fetch(`${proxy.url}/models`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
    });

  beforeAll(async () => {
    cluster = await startTestCluster([
      {
        app: "models",
        routePrefix: "/models",
        importPath: "models-app.ts#app",
        deployment: "Models",
        numReplicas: 1,
        options: { multiplexed: { maxModelsPerReplica: 2 } },
      },
    ]);
    proxy = await startProxy({ address: cluster.server.url, prefix: PREFIX, port: 0, routeRefreshMs: 200 });
  });
  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  it("passes the header's model id to the call (any case, - for _)", async () => {
    for (const name of ["serve_multiplexed_model_id", "Serve-Multiplexed-Model-Id"]) {
      const res = await post({ [name]: "lora-7" });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { modelId: string }).modelId).toBe("lora-7");
    }
  });

  it("answers 400 BAD_REQUEST naming the header for a bad model id, and keeps serving", async () => {
    const res = await post({ serve_multiplexed_model_id: "x".repeat(201) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toMatch(
      /header serve_multiplexed_model_id must be a non-empty string of at most 200 characters/,
    );
    expect((await post({ serve_multiplexed_model_id: "ok" })).status).toBe(200);
  });

  it("answers 500 MODEL_LOAD_FAILED naming the model when loadModel throws", async () => {
    const res = await post({ serve_multiplexed_model_id: "broken" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe("MODEL_LOAD_FAILED");
    expect(body.error.message).toContain('loadModel("broken") failed: weights not found');
    expect((await post({ serve_multiplexed_model_id: "lora-7" })).status).toBe(200);
  });
});
