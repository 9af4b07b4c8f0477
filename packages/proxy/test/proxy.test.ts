import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type Proxy } from "../src/index.js";
import { waitUntil } from "@tsserve/test-utils";
import { PREFIX, startTestCluster, type TestCluster } from "./test-cluster.js";

interface ErrorJson {
  error: { code: string; name: string; message: string };
}

/** A raw HTTP exchange, for what fetch cannot send (header floods, bodies the server cuts short). */
function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer; chunks?: Buffer[] },
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", reject);
    });
    // The server may close while we still send an oversized body: that is the point, not a failure.
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" && e.code !== "ECONNRESET") reject(e);
    });
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

async function post(
  proxy: Proxy,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe("HTTP proxy over a real cluster", () => {
  let cluster: TestCluster;
  let proxy: Proxy;

  beforeAll(async () => {
    cluster = await startTestCluster([
      {
        app: "api",
        routePrefix: "/api",
        importPath: "proxy-app.ts#app",
        deployment: "Api",
        numReplicas: 3,
        options: {
          maxOngoingRequests: 4,
          requestRouter: {
            class: "ConsistentHash",
            kwargs: { numVirtualNodes: 100, numFallbackReplicas: 1 },
          },
        },
      },
      {
        app: "slow",
        routePrefix: "/slow",
        importPath: "proxy-app.ts#slowApp",
        deployment: "Slow",
        numReplicas: 1,
        options: {
          maxOngoingRequests: 1,
          maxQueuedRequests: 1,
        },
      },
    ]);
    proxy = await startProxy({
      address: cluster.server.url,
      prefix: PREFIX,
      port: 0,
      requestTimeoutMs: 1500,
      routeRefreshMs: 200,
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  it("answers health checks and lists the route table", async () => {
    const health = await fetch(`${proxy.url}/-/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok");
    const routes = await fetch(`${proxy.url}/-/routes`);
    expect(await routes.json()).toEqual({
      "/api": { app: "api", ingress: "Api" },
      "/slow": { app: "slow", ingress: "Slow" },
    });
  });

  it("keeps 10 POSTs with x-session-id u1 on one ConsistentHash replica", async () => {
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post(proxy, "/api", { i }, { "x-session-id": "u1" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as { replica: string; input: unknown };
      expect(body.input).toEqual({ i });
      served.push(body.replica);
    }
    expect(new Set(served).size).toBe(1);
    expect(cluster.replicaIds.get("api/Api")).toContain(served[0]);
  });

  it("accepts X_Session_Id (any case, _ for -) as the same session", async () => {
    const a = (await (
      await post(proxy, "/api/whoami", undefined, { "x-session-id": "u7" })
    ).json()) as string;
    for (let i = 0; i < 5; i++) {
      const b = (await (
        await post(proxy, "/api/whoami", undefined, { X_Session_Id: "u7" })
      ).json()) as string;
      expect(b).toBe(a);
    }
    // Different sessions spread: over 20 sessions, more than one replica serves.
    const replicas = new Set<string>();
    for (let i = 0; i < 20; i++) {
      replicas.add(
        (await (await post(proxy, "/api/whoami", undefined, { "x-session-id": `s${i}` })).json()) as string,
      );
    }
    expect(replicas.size).toBeGreaterThan(1);
  });

  it("calls __call__ with undefined on a GET without a body", async () => {
    const res = await fetch(`${proxy.url}/api`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { replica: string; input?: unknown };
    expect(cluster.replicaIds.get("api/Api")).toContain(body.replica);
    expect(body.input ?? null).toBeNull();
  });

  it("answers 404 for an unknown route, naming the path and the known prefixes", async () => {
    const res = await post(proxy, "/nope/x", {});
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("DEPLOYMENT_NOT_FOUND");
    expect(error.message).toContain('"/nope/x"');
    expect(error.message).toContain("/api, /slow");
  });

  it("answers 404 METHOD_NOT_FOUND for a method the class lacks", async () => {
    const res = await post(proxy, "/api/noSuchMethod", {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorJson).error.code).toBe("METHOD_NOT_FOUND");
  });

  it("answers 400 for invalid JSON with a clear message", async () => {
    const res = await fetch(`${proxy.url}/api`, { method: "POST", body: '{"broken": ' });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/request body is not valid JSON \(11 bytes\)/);
  });

  it("answers 500 INTERNAL naming the method when its result is not JSON-serialisable", async () => {
    const res = await post(proxy, "/api/cyclic", null);
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toMatch(/^result of Api\.cyclic is not JSON-serialisable: /);
    expect((await post(proxy, "/api", { after: "cyclic" })).status).toBe(200);
  });

  it("answers 500 with the user's message when the deployment throws", async () => {
    const res = await post(proxy, "/api/fail", { message: "kaput 42" });
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("USER_CODE");
    expect(error.message).toContain("kaput 42");
  });

  it("answers 413 for a body over maxBodyBytes, declared or chunked, and keeps serving", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const declared = await rawRequest(`${proxy.url}/api`, {
      body: big,
      headers: { "content-length": big.length },
    });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    const chunked = await rawRequest(`${proxy.url}/api`, {
      chunks: Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 0x61)),
    });
    expect(chunked.status).toBe(413);
    const next = await post(proxy, "/api", { after: "413" });
    expect(next.status).toBe(200);
  });

  it("answers 431 to a header flood and keeps serving", async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 150; i++) headers[`x-flood-${i}`] = "1";
    const res = await rawRequest(`${proxy.url}/api`, { headers, body: Buffer.from("{}") });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ error: { name: "RequestHeaderFieldsTooLarge" } });
    expect((await post(proxy, "/api", {})).status).toBe(200);
  });

  it("streams a generator method as NDJSON with ?stream=1 or Accept: application/x-ndjson", async () => {
    const res = await post(proxy, "/api/count?stream=1", 4);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
    const viaAccept = await post(proxy, "/api/count", 2, { accept: "application/x-ndjson" });
    expect((await viaAccept.text()).trim().split("\n")).toEqual(['{"i":0}', '{"i":1}']);
  });

  it("ends a stream that fails midway with an error line", async () => {
    const res = await post(proxy, "/api/failAfter?stream=1", 2);
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    expect(lines.slice(0, 2)).toEqual([0, 1]);
    expect(lines[2]).toMatchObject({ error: { code: "USER_CODE" } });
    expect((lines[2] as ErrorJson).error.message).toContain("stream broke after 2");
  });

  it("answers 503 when the deployment's maxQueuedRequests is reached", async () => {
    // Warm up: the handle learns the membership (and with it maxQueuedRequests) on first use.
    expect((await post(proxy, "/slow", 10)).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 6 }, () => post(proxy, "/slow", 400)));
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    const rejected = results[statuses.indexOf(503)] as Response;
    expect(((await rejected.json()) as ErrorJson).error.code).toBe("BACK_PRESSURE");
    await Promise.all(results.filter((r) => !r.bodyUsed).map((r) => r.text()));
  });

  it("answers 504 when a call outlives requestTimeoutMs", async () => {
    const started = Date.now();
    const res = await post(proxy, "/api/sleep", 2500);
    expect(res.status).toBe(504);
    expect(((await res.json()) as ErrorJson).error.code).toBe("TIMEOUT");
    // Answered at the deadline, not when the 2.5 s call would have finished.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("cancels the call when the client disconnects", async () => {
    const abort = new AbortController();
    const pending = fetch(`${proxy.url}/api/sleep`, { method: "POST", body: "1000", signal: abort.signal });
    setTimeout(() => abort.abort(), 150);
    await expect(pending).rejects.toThrow();
    // The handle reports the call as cancelled (not ok after the 1 s sleep) once the socket closes.
    const text = await waitUntil(
      async () => {
        const t = await (await fetch(`${proxy.url}/metrics`)).text();
        return t.includes('outcome="CANCELLED"') ? t : undefined;
      },
      { timeoutMs: 5000, message: "a CANCELLED handle outcome on /metrics" },
    );
    expect(text).toContain('tsserve_handle_requests_total{app="api",deployment="Api",outcome="CANCELLED"} 1');
  });

  it("exports request counters, the latency histogram and handle series on /metrics", async () => {
    const res = await fetch(`${proxy.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/tsserve_http_requests_total\{route="\/api",status="200"\} \d+/);
    expect(text).toContain('tsserve_http_requests_total{route="unmatched",status="404"} 1');
    expect(text).toContain('tsserve_http_requests_total{route="/slow",status="503"}');
    expect(text).toMatch(/tsserve_http_request_duration_seconds_bucket\{le="0\.1",route="\/api"\} \d+/);
    expect(text).toMatch(/tsserve_http_request_duration_seconds_count\{route="\/api"\} \d+/);
    expect(text).toMatch(/tsserve_handle_requests_total\{app="api",deployment="Api",outcome="ok"\} \d+/);
    // One from /api/fail, one from the stream that failed midway.
    expect(text).toContain('tsserve_handle_requests_total{app="api",deployment="Api",outcome="USER_CODE"} 2');
    expect(text).toContain('tsserve_replicas{app="api",deployment="Api",state="RUNNING"} 3');
    expect(text).toMatch(/tsserve_router_fallback_rank_total\{app="api",deployment="Api",rank="0"\} \d+/);
    expect(text).toMatch(/tsserve_replica_queue_length\{app="api",deployment="Api",replica="[^"]+"\} \d+/);
  });

  it("answers 400 BAD_REQUEST for a 100,000-deep JSON body, not a stack overflow", async () => {
    const depth = 100_000;
    const res = await fetch(`${proxy.url}/api`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[".repeat(depth) + "]".repeat(depth),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.name).toBe("BadRequestError");
    expect(body.error.message).toMatch(/nested 10000\d levels deep/);
    expect(body.error.message).not.toMatch(/call stack/i);
    expect((await post(proxy, "/api", { after: 1 })).status).toBe(200);
  });

  it("answers 502 REPLY_TOO_LARGE (not 413) when the reply is over NATS max_payload", async () => {
    const res = await post(proxy, "/api/big", 1_100_000);
    expect(res.status).toBe(502);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe("REPLY_TOO_LARGE");
    expect(body.error.message).toMatch(/over the NATS server's max_payload/);
  });

  it("streams NDJSON at the HTTP client's pace: a client that stops reading stops the replica", async () => {
    const session = { "x-session-id": "slow-reader" };
    const before = (await (await post(proxy, "/api/producedSoFar", undefined, session)).json()) as number;
    const req = httpRequest(`${proxy.url}/api/fast?stream=1`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session },
    });
    req.on("error", () => undefined);
    const firstData = new Promise<void>((resolve) =>
      req.on("response", (res) => {
        res.once("data", () => {
          // Stop reading: the socket, then the proxy, then the handle's window fill up.
          res.pause();
          resolve();
        });
      }),
    );
    // 100,000 × 10 KB = 1 GB if nothing held the replica back.
    req.end(JSON.stringify({ n: 100_000, size: 10_000 }));
    await firstData;
    await new Promise((r) => setTimeout(r, 800));
    const produced =
      ((await (await post(proxy, "/api/producedSoFar", undefined, session)).json()) as number) - before;
    req.destroy();
    console.log(`HTTP reader paused 800 ms: the replica produced ${produced} of 100,000 chunks of 10 KB`);
    // Kernel socket buffers (a few MB), the proxy's write buffer and one handle window (2 MiB).
    expect(produced).toBeGreaterThan(0);
    expect(produced).toBeLessThan(5000);
  });

  it("keeps the last route table while the controller is unreachable", async () => {
    await cluster.stopController();
    await proxy.refreshRoutes();
    const res = await post(proxy, "/api", { still: "routed" });
    expect(res.status).toBe(200);
    const missing = await post(proxy, "/gone", {});
    const { error } = (await missing.json()) as ErrorJson;
    expect(error.message).toContain("route table may be stale");
  });
});
