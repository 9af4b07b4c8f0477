/**
 * Ray's gRPC metadata `multiplexed_model_id` through the gRPC ingress (issue 21): the id reaches
 * `getMultiplexedModelId()` in the call, a model's calls follow it to the replica that loaded it,
 * a new model goes to the replica with free slots, a bad id is INVALID_ARGUMENT naming the key and
 * a failing load hook INTERNAL naming the model. Real nats-server, two real replica processes.
 */
import { join } from "node:path";
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status as Status,
  type Client as GrpcClient,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTO_LOADER_OPTIONS } from "../src/grpc/grpc-options.js";
import { startProxy, type Proxy } from "../src/index.js";
import { FIXTURES, PREFIX, startTestCluster, type TestCluster } from "./test-cluster.js";

const PROTO = join(FIXTURES, "models.proto");

interface Which {
  replica: string;
  model_id: string;
}
type Unary = (req: object, md: Metadata, cb: (e: ServiceError | null, v: Which) => void) => void;
type ModelsClient = GrpcClient & { Which: Unary };

describe("gRPC ingress: multiplexed model ids (2 replica processes × 2 model slots)", () => {
  let cluster: TestCluster;
  let proxy: Proxy;
  let models: ModelsClient;

  /** One `Models.Which` call with the metadata given (the application is always named). */
  const which = (md: Record<string, string> = {}): Promise<Which> => {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries({ application: "models", ...md })) metadata.add(k, v);
    return new Promise((resolve, reject) =>
      models.Which({}, metadata, (e, v) => (e ? reject(e) : resolve(v))),
    );
  };
  const model = (id: string) => which({ multiplexed_model_id: id });
  const failure = async (p: Promise<unknown>): Promise<ServiceError> => {
    try {
      await p;
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error("expected the call to fail");
  };

  beforeAll(async () => {
    cluster = await startTestCluster([
      {
        app: "models",
        routePrefix: null,
        importPath: "models-app.ts#app",
        deployment: "Models",
        numReplicas: 2,
        options: { maxOngoingRequests: 8, multiplexed: { maxModelsPerReplica: 2 } },
      },
    ]);
    proxy = await startProxy({
      address: cluster.server.url,
      prefix: PREFIX,
      port: 0,
      requestTimeoutMs: 10_000,
      routeRefreshMs: 200,
      grpc: { port: 0, protoFiles: [PROTO] },
    });
    const pkg = loadPackageDefinition(loadSync(PROTO, PROTO_LOADER_OPTIONS)) as any;
    models = new pkg.tsserve.test.Models(`127.0.0.1:${proxy.grpcPort}`, credentials.createInsecure());
  }, 120_000);

  afterAll(async () => {
    models?.close();
    await proxy?.close();
    await cluster?.stop();
  });

  it("passes the metadata's model id to getMultiplexedModelId(), and none without it", async () => {
    expect((await model("lora-a")).model_id).toBe("lora-a");
    expect((await which()).model_id).toBe("");
  });

  it("keeps a model's calls on the replica that loaded it and sends a new model to free slots", async () => {
    const a = (await model("lora-a")).replica;
    expect(cluster.replicaIds.get("models/Models")).toContain(a);
    for (let i = 0; i < 6; i++) expect((await model("lora-a")).replica).toBe(a);
    // The other replica has both its slots free, lora-a's one.
    const b = await model("lora-b");
    expect(b).toMatchObject({ model_id: "lora-b" });
    expect(b.replica).not.toBe(a);
    for (let i = 0; i < 3; i++) {
      expect((await model("lora-b")).replica).toBe(b.replica);
      expect((await model("lora-a")).replica).toBe(a);
    }
  });

  it("answers INVALID_ARGUMENT naming the key for a bad model id, and keeps serving", async () => {
    const bad = await failure(model("x".repeat(201)));
    expect(bad.code).toBe(Status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(
      /metadata "multiplexed_model_id" must be a non-empty string of at most 200 characters/,
    );
    expect((await model("lora-a")).model_id).toBe("lora-a");
  });

  it("answers INTERNAL naming the model when loadModel throws, and keeps serving", async () => {
    const e = await failure(model("broken"));
    expect(e.code).toBe(Status.INTERNAL);
    expect(e.details).toContain('loadModel("broken") failed: weights not found');
    expect((await model("lora-a")).model_id).toBe("lora-a");
  });
});
