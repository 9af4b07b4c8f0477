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
import { connect, type Client } from "@tsserve/handle";
import { isMethodNotFoundError } from "@tsserve/protocol";
import { waitUntil } from "@tsserve/test-utils";
import { HEALTH_SERVICE } from "../src/grpc/grpc-health.js";
import { PROTO_LOADER_OPTIONS } from "../src/grpc/grpc-options.js";
import { startProxy, type Proxy } from "../src/index.js";
import { FIXTURES, PREFIX, startTestCluster, type TestCluster } from "./test-cluster.js";

const PROTO = join(FIXTURES, "greeter.proto");

type Who = {
  replica: string;
  calls: number;
  session_id: string;
  name: string;
  big: string;
  color: string;
  had_http: boolean;
};
type Unary = (
  req: object,
  md: Metadata,
  opts: { deadline?: number },
  cb: (e: ServiceError | null, v: unknown) => void,
) => void;
type Streaming = (
  req: object,
  md: Metadata,
  opts?: { deadline?: number },
) => NodeJS.ReadableStream & { cancel(): void };
type Greeter = GrpcClient & Record<string, Unary & Streaming>;

function metadata(entries: Record<string, string | string[]>): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(entries)) {
    for (const x of Array.isArray(v) ? v : [v]) md.add(k, k.endsWith("-bin") ? Buffer.from(x) : x);
  }
  return md;
}

function unary<T>(
  client: Greeter,
  rpc: string,
  req: object,
  md: Record<string, string | string[]>,
  deadlineMs?: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const opts = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    (client[rpc] as Unary).call(client, req, metadata(md), opts, (e, v) => (e ? reject(e) : resolve(v as T)));
  });
}

async function collect<T>(
  client: Greeter,
  rpc: string,
  req: object,
  md: Record<string, string>,
): Promise<T[]> {
  const out: T[] = [];
  const stream = (client[rpc] as Streaming).call(client, req, metadata(md));
  for await (const chunk of stream as AsyncIterable<T>) out.push(chunk);
  return out;
}

async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected the call to fail");
}

const APP = { application: "grpc" };

describe("gRPC ingress and HTTP for user code over a real cluster", () => {
  let cluster: TestCluster;
  let proxy: Proxy;
  let greeter: Greeter;
  let health: Greeter;
  let client: Client;

  beforeAll(async () => {
    cluster = await startTestCluster([
      {
        app: "grpc",
        routePrefix: "/g",
        importPath: "grpc-app.ts#app",
        deployment: "GrpcApi",
        numReplicas: 4,
        options: {
          maxOngoingRequests: 8,
          requestRouter: {
            class: "ConsistentHash",
            kwargs: { numVirtualNodes: 100, numFallbackReplicas: 2 },
          },
        },
      },
      {
        app: "fragile",
        routePrefix: null,
        importPath: "grpc-app.ts#fragileApp",
        deployment: "Fragile",
        numReplicas: 1,
        options: { maxOngoingRequests: 1, maxQueuedRequests: 1 },
      },
    ]);
    proxy = await startProxy({
      address: cluster.server.url,
      prefix: PREFIX,
      port: 0,
      requestTimeoutMs: 5000,
      routeRefreshMs: 200,
      grpc: { port: 0, protoFiles: [PROTO] },
    });
    const pkg = loadPackageDefinition(loadSync(PROTO, PROTO_LOADER_OPTIONS)) as any;
    const target = `127.0.0.1:${proxy.grpcPort}`;
    greeter = new pkg.tsserve.test.Greeter(target, credentials.createInsecure());
    const healthPkg = loadPackageDefinition(
      loadSync("grpc/health/v1/health.proto", {
        ...PROTO_LOADER_OPTIONS,
        includeDirs: [join(FIXTURES, "../../proto")],
      }),
    ) as any;
    health = new healthPkg.grpc.health.v1.Health(target, credentials.createInsecure());
    client = await connect({ address: cluster.server.url, prefix: PREFIX });
  }, 120_000);

  afterAll(async () => {
    greeter?.close();
    health?.close();
    await client?.close();
    await proxy?.close();
    await cluster?.stop();
  });

  it("keeps 20 calls with one session_id on one replica, counting them", async () => {
    const replies: Who[] = [];
    for (let i = 0; i < 20; i++) {
      replies.push(await unary<Who>(greeter, "Whoami", { name: "ada" }, { ...APP, session_id: "user_1" }));
    }
    expect(new Set(replies.map((r) => r.replica)).size).toBe(1);
    expect(replies.map((r) => r.calls)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(replies[0]).toMatchObject({ session_id: "user_1", name: "ada", had_http: false });
    expect(cluster.replicaIds.get("grpc/GrpcApi")).toContain(replies[0]!.replica);
  });

  it("spreads 40 session ids over at least 3 of 4 replicas", async () => {
    const replicas = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await unary<Who>(greeter, "Whoami", {}, { ...APP, session_id: `spread-${i}` });
      replicas.add(r.replica);
    }
    expect(replicas.size).toBeGreaterThanOrEqual(3);
  });

  it("routes one session's gRPC, HTTP and handle calls to the same replica", async () => {
    const session = "same-everywhere";
    const viaGrpc = await unary<Who>(greeter, "Whoami", {}, { ...APP, session_id: session });
    const res = await fetch(`${proxy.url}/g/whoami`, {
      method: "POST",
      headers: { "x-session-id": session },
    });
    const viaHttp = (await res.json()) as Who;
    const handle = client.getDeploymentHandle("GrpcApi", { app: "grpc" });
    const viaHandle = (await handle.options({ sessionId: session, method: "whoami" }).remote({})) as Who;
    expect(viaHttp.replica).toBe(viaGrpc.replica);
    expect(viaHandle.replica).toBe(viaGrpc.replica);
    // One counter on one replica saw all three calls, in order.
    expect([viaGrpc.calls, viaHttp.calls, viaHandle.calls]).toEqual([1, 2, 3]);
    expect(viaHttp.had_http).toBe(true);
  });

  it("maps an RPC to the exact method name first, else lowerCamel, and decodes longs and enums as strings", async () => {
    const exact = await unary<Who>(greeter, "Exact", { name: "x" }, APP);
    expect(exact.name).toBe("exact:x");
    const camel = await unary<Who>(
      greeter,
      "Whoami",
      { name: "y", big: "9007199254740993", color: "GREEN" },
      APP,
    );
    expect(camel).toMatchObject({ name: "y", big: "9007199254740993", color: "GREEN" });
  });

  it("streams a server-streaming RPC from an async generator, in order", async () => {
    const chunks = await collect<{ i: number; replica: string }>(
      greeter,
      "Count",
      { n: 50 },
      { ...APP, session_id: "s" },
    );
    expect(chunks.map((c) => c.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(chunks.map((c) => c.replica)).size).toBe(1);
  });

  it("streams large chunks to a client that reads slowly, without losing any", async () => {
    const stream = (greeter["Count"] as Streaming).call(greeter, { n: 200, pad: 16 * 1024 }, metadata(APP));
    let n = 0;
    for await (const c of stream as AsyncIterable<{ i: number; pad: string }>) {
      expect(c.i).toBe(n++);
      expect(c.pad.length).toBe(16 * 1024);
      if (n % 50 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(n).toBe(200);
  });

  it("ends a stream with INTERNAL and the user's message when the generator throws midway", async () => {
    const got: unknown[] = [];
    const stream = (greeter["FailStream"] as Streaming).call(
      greeter,
      { message: "stream broke" },
      metadata(APP),
    );
    const error = await grpcError(
      (async () => {
        for await (const c of stream as AsyncIterable<unknown>) got.push(c);
      })(),
    );
    expect(got).toHaveLength(1);
    expect(error.code).toBe(Status.INTERNAL);
    expect(error.details).toContain("stream broke");
  });

  it("answers INTERNAL with the message for a user error, and the code a ServeError chose", async () => {
    const plain = await grpcError(unary(greeter, "Fail", { message: "kaput 42" }, APP));
    expect(plain.code).toBe(Status.INTERNAL);
    expect(plain.details).toContain("kaput 42");
    const chosen = await grpcError(
      unary(greeter, "Fail", { message: "no such user", grpc_code: Status.NOT_FOUND }, APP),
    );
    expect(chosen.code).toBe(Status.NOT_FOUND);
    expect(chosen.details).toContain("no such user");
    const fromHttp = await grpcError(unary(greeter, "Fail", { message: "slow down", status: 429 }, APP));
    expect(fromHttp.code).toBe(Status.RESOURCE_EXHAUSTED);
  });

  it("answers UNIMPLEMENTED for an RPC the ingress has no method for, naming both names tried", async () => {
    const e = await grpcError(unary(greeter, "Missing", {}, APP));
    expect(e.code).toBe(Status.UNIMPLEMENTED);
    expect(e.details).toMatch(/no method "Missing" or "missing"/);
    const upload = await grpcError(
      new Promise((resolve, reject) => {
        const call = (greeter["Upload"] as any).call(
          greeter,
          metadata(APP),
          (err: ServiceError | null, v: unknown) => (err ? reject(err) : resolve(v)),
        );
        call.end();
      }),
    );
    expect(upload.code).toBe(Status.UNIMPLEMENTED);
    expect(upload.details).toContain("client-streaming");
  });

  it("keeps a TypeScript-private helper unreachable over gRPC, HTTP and a handle, listing only callable methods", async () => {
    const callable =
      "callable: Exact, count, fail, failStream, notFound, shaped, sleep, text, whoami " +
      "(the `methods` list of deployment({...}), and __call__ when the class has one)";
    const viaGrpc = await grpcError(unary(greeter, "Who", { name: "x" }, { ...APP, session_id: "priv" }));
    expect(viaGrpc.code).toBe(Status.UNIMPLEMENTED);
    expect(viaGrpc.details).toContain('has no callable method "who"');
    expect(viaGrpc.details).toContain(callable);
    const res = await fetch(`${proxy.url}/g/who`, { method: "POST", headers: { "x-session-id": "priv" } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('has no callable method "who"');
    expect(body.error.message).toContain(callable);
    const handle = client.getDeploymentHandle("GrpcApi", { app: "grpc" });
    const viaHandle = await handle
      .options({ sessionId: "priv", method: "who" })
      .remote({})
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isMethodNotFoundError(viaHandle)).toBe(true);
    expect((viaHandle as Error).message).toContain(callable);
    // The helper never ran: the session's counter starts at the first real call.
    const first = await unary<Who>(greeter, "Whoami", {}, { ...APP, session_id: "priv" });
    expect(first.calls).toBe(1);
  });

  it("answers NOT_FOUND for an unknown or missing application, and INVALID_ARGUMENT for bad metadata", async () => {
    const unknown = await grpcError(unary(greeter, "Whoami", {}, { application: "nope" }));
    expect(unknown.code).toBe(Status.NOT_FOUND);
    expect(unknown.details).toMatch(/unknown application "nope".*known applications: fragile, grpc/);
    const missing = await grpcError(unary(greeter, "Whoami", {}, {}));
    expect(missing.code).toBe(Status.NOT_FOUND);
    expect(missing.details).toMatch(/"application" is required when several applications are deployed/);
    const long = await grpcError(
      unary(greeter, "Whoami", {}, { application: "grpc", session_id: "s".repeat(2000) }),
    );
    expect(long.code).toBe(Status.INVALID_ARGUMENT);
    expect(long.details).toMatch(/"session_id" is longer than 1024 characters/);
    const bin = await grpcError(unary(greeter, "Whoami", {}, { application: "grpc", "session_id-bin": "x" }));
    expect(bin.code).toBe(Status.INVALID_ARGUMENT);
    expect(bin.details).toMatch(
      /"session_id-bin" is not read; send the session id as text metadata "session_id"/,
    );
    // An empty session id means no session, as with an empty x-session-id header.
    expect(
      (await unary<Who>(greeter, "Whoami", {}, { application: "grpc", session_id: " " })).session_id,
    ).toBe("");
  });

  it("honours the client's deadline: DEADLINE_EXCEEDED, and the replica is free again", async () => {
    const started = Date.now();
    const e = await grpcError(unary(greeter, "Sleep", { ms: 3000 }, { application: "fragile" }, 400));
    expect(e.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(2500);
    // The proxy gave the handle the client's deadline: the handle call ended with it (timed out, or
    // cancelled when grpc-js saw the deadline first), not after the proxy's own 5 s limit.
    const ended =
      /tsserve_handle_requests_total\{app="fragile",deployment="Fragile",outcome="(TIMEOUT|CANCELLED)"\}/;
    await waitUntil(async () => ended.test(await proxy.metrics.render()), { timeoutMs: 1500 });
  });

  it("answers RESOURCE_EXHAUSTED when the handle's queue is full", async () => {
    // Fragile: one request at a time, one queued; a third concurrent call is refused at once.
    await new Promise((r) => setTimeout(r, 3000)); // the previous test's sleep ends on the replica
    const calls = [0, 1, 2, 3].map((i) =>
      unary(greeter, "Sleep", { ms: 600 }, { application: "fragile", session_id: `q${i}` }).then(
        () => null,
        (e: ServiceError) => e.code,
      ),
    );
    const codes = await Promise.all(calls);
    expect(codes).toContain(Status.RESOURCE_EXHAUSTED);
    expect(codes).toContain(null);
  });

  it("serves grpc.health.v1: SERVING for the server and configured services, NOT_FOUND otherwise", async () => {
    expect(await unary(health, "Check", { service: "" }, {})).toEqual({ status: "SERVING" });
    expect(await unary(health, "Check", { service: "tsserve.test.Greeter" }, {})).toEqual({
      status: "SERVING",
    });
    expect(await unary(health, "Check", { service: HEALTH_SERVICE }, {})).toEqual({ status: "SERVING" });
    const e = await grpcError(unary(health, "Check", { service: "no.Such" }, {}));
    expect(e.code).toBe(Status.NOT_FOUND);
  });

  it("counts gRPC calls by RPC and status code in /metrics", async () => {
    const text = await proxy.metrics.render();
    expect(text).toMatch(
      /tsserve_grpc_requests_total\{method="\/tsserve.test.Greeter\/Whoami",code="OK"\} \d+/,
    );
    expect(text).toContain('method="/tsserve.test.Greeter/Missing",code="UNIMPLEMENTED"');
  });

  it("HTTP: method, path, query and headers reach user code; status and headers leave it", async () => {
    const res = await fetch(`${proxy.url}/g/shaped?x=1&y=two`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-custom": "abc", "x-session-id": "h1" },
      body: JSON.stringify({ status: 201, header: "echoed" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-echo")).toBe("echoed");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as {
      http: { method: string; path: string; query: string; headers: Record<string, string> };
      replica: string;
    };
    expect(res.headers.get("x-replica")).toBe(body.replica);
    expect(body.http).toMatchObject({ method: "POST", path: "/shaped", query: "x=1&y=two" });
    expect(body.http.headers).toMatchObject({ "x-custom": "abc", "x-session-id": "h1" });
    expect(new URLSearchParams(body.http.query).get("y")).toBe("two");
  });

  it("HTTP: a string body goes as is with the content type user code set", async () => {
    const res = await fetch(`${proxy.url}/g/text`);
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toBe("text/csv");
    expect(await res.text()).toBe("a,b\n1,2\n");
  });

  it("HTTP: a ServeError answers with its status and the usual error body", async () => {
    const res = await fetch(`${proxy.url}/g/notFound`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      // remoteName: the class the deployment threw (issue 22: errors keep their detail).
      error: { code: "USER_CODE", name: "ServeError", remoteName: "ServeError", message: "no such item" },
    });
    const chosen = await fetch(`${proxy.url}/g/fail`, {
      method: "POST",
      body: JSON.stringify({ message: "teapot", status: 418, grpc_code: 0 }),
    });
    expect(chosen.status).toBe(418);
    const plain = await fetch(`${proxy.url}/g/fail`, {
      method: "POST",
      body: JSON.stringify({ message: "plain", status: 0, grpc_code: 0 }),
    });
    expect(plain.status).toBe(500);
  });

  it("handle callers get a ServeError back with its status and gRPC code", async () => {
    const handle = client.getDeploymentHandle("GrpcApi", { app: "grpc" });
    const e = await handle
      .options({ method: "notFound" })
      .remote()
      .then(
        () => null,
        (err: unknown) => err as { name: string; status: number; grpcCode: number; code: string },
      );
    expect(e).toMatchObject({
      name: "ServeError",
      code: "USER_CODE",
      status: 404,
      grpcCode: Status.NOT_FOUND,
    });
  });

  // Last: it kills the Fragile replica.
  it("answers UNAVAILABLE when the replica dies during the call", async () => {
    const e = await grpcError(unary(greeter, "Crash", {}, { application: "fragile" }));
    expect(e.code).toBe(Status.UNAVAILABLE);
    expect(e.details).toMatch(/ReplicaDiedError/);
  });
});
