import { join } from "node:path";
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client as GrpcClient,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_LOG_ENV, createLogger } from "@tsserve/protocol/internal";
import { waitUntil } from "@tsserve/test-utils";
import { PROTO_LOADER_OPTIONS } from "../src/grpc/grpc-options.js";
import { startProxy, type Proxy } from "../src/index.js";
import { FIXTURES, PREFIX, startTestCluster, type TestCluster, type TestDeployment } from "./test-cluster.js";

const PROTO = join(FIXTURES, "greeter.proto");
const WARN = 40;
const INFO = 30;
const DEBUG = 20;

type Line = Record<string, unknown> & { level: number; msg: string };

/** A proxy logger whose lines (pino JSON) land in an array. */
function capturedLog(level: string): { log: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger("proxy", {}, { level, format: "json", write: (l) => lines.push(JSON.parse(l)) });
  return { log, lines };
}

/** Starts a proxy with `TSSERVE_ACCESS_LOG` set as given (restored at once: the proxy reads it once). */
async function proxyWith(accessLog: boolean, options: Parameters<typeof startProxy>[0]): Promise<Proxy> {
  const saved = process.env[ACCESS_LOG_ENV];
  if (accessLog) process.env[ACCESS_LOG_ENV] = "1";
  else delete process.env[ACCESS_LOG_ENV];
  try {
    return await startProxy(options);
  } finally {
    if (saved === undefined) delete process.env[ACCESS_LOG_ENV];
    else process.env[ACCESS_LOG_ENV] = saved;
  }
}

function post(proxy: Proxy, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${proxy.url}${path}`, { method: "POST", body, headers });
}

type Unary = (req: object, md: Metadata, cb: (e: ServiceError | null, v: unknown) => void) => void;

function unary(client: GrpcClient, rpc: string, req: object, md: Record<string, string>): Promise<unknown> {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(md)) metadata.add(k, v);
  return new Promise((resolve) => {
    const fn = (client as unknown as Record<string, Unary>)[rpc] as Unary;
    fn.call(client, req, metadata, (e, v) => resolve(e ?? v));
  });
}

const DEPLOYMENTS: TestDeployment[] = [
  {
    app: "api",
    routePrefix: "/api",
    importPath: "proxy-app.ts#app",
    deployment: "Api",
    numReplicas: 1,
    options: { maxOngoingRequests: 64 },
  },
  {
    app: "other",
    routePrefix: "/other",
    importPath: "proxy-app.ts#slowApp",
    deployment: "Slow",
    numReplicas: 1,
    options: { maxOngoingRequests: 1, maxQueuedRequests: 1 },
  },
  {
    app: "grpc",
    routePrefix: null,
    importPath: "grpc-app.ts#app",
    deployment: "GrpcApi",
    numReplicas: 1,
    options: { maxOngoingRequests: 8 },
  },
];

describe("proxy log lines over a real cluster", () => {
  let cluster: TestCluster;
  // `quiet`: access log off, level debug. `access`: access log on.
  let quiet: Proxy;
  let access: Proxy;
  const q = capturedLog("debug");
  const a = capturedLog("info");
  let quietGrpc: GrpcClient;
  let accessGrpc: GrpcClient;
  /** Lines of `lines` written after `mark` with message `msg`. */
  const after = (lines: Line[], mark: number, msg: string): Line[] =>
    lines.slice(mark).filter((l) => l.msg === msg);

  beforeAll(async () => {
    cluster = await startTestCluster(DEPLOYMENTS);
    // Polls only when a test asks (refreshRoutes), so line counts do not depend on timing.
    const common = {
      address: cluster.server.url,
      prefix: PREFIX,
      port: 0,
      requestTimeoutMs: 500,
      routeRefreshMs: 600_000,
      grpc: { port: 0, protoFiles: [PROTO] },
    };
    quiet = await proxyWith(false, { ...common, log: q.log });
    access = await proxyWith(true, { ...common, log: a.log });
    const pkg = loadPackageDefinition(loadSync(PROTO, PROTO_LOADER_OPTIONS)) as any;
    quietGrpc = new pkg.tsserve.test.Greeter(`127.0.0.1:${quiet.grpcPort}`, credentials.createInsecure());
    accessGrpc = new pkg.tsserve.test.Greeter(`127.0.0.1:${access.grpcPort}`, credentials.createInsecure());
  }, 120_000);

  afterAll(async () => {
    quietGrpc?.close();
    accessGrpc?.close();
    await quiet?.close();
    await access?.close();
    await cluster?.stop();
  });

  it("logs the start with the HTTP URL, the gRPC port and the first route table", () => {
    const started = after(q.lines, 0, "proxy started");
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      level: INFO,
      component: "proxy",
      url: quiet.url,
      grpcPort: quiet.grpcPort,
      grpcServices: ["tsserve.test.Greeter"],
      accessLog: false,
    });
    expect(after(a.lines, 0, "proxy started")[0]).toMatchObject({ accessLog: true });
    const routes = after(q.lines, 0, "routes changed");
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({
      level: INFO,
      routes: 2,
      added: ["/api -> api/Api", "/other -> other/Slow"],
      removed: [],
      changed: [],
    });
  });

  it("logs a route change once, not on every poll", async () => {
    const mark = q.lines.length;
    cluster.setRoutePrefix("other", "/renamed");
    for (let i = 0; i < 3; i++) await quiet.refreshRoutes();
    const changed = after(q.lines, mark, "routes changed");
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      routes: 2,
      added: ["/renamed -> other/Slow"],
      removed: ["/other -> other/Slow"],
      changed: [],
    });
    expect((await post(quiet, "/renamed", "5")).status).toBe(200);
  });

  it("logs a 504 (timeout) as one warn line with route, path, status, error and session id", async () => {
    const mark = q.lines.length;
    const res = await post(quiet, "/api/sleep", "1500", { "x-session-id": "s-504" });
    expect(res.status).toBe(504);
    const warns = q.lines.slice(mark).filter((l) => l.level >= WARN);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      msg: "http request failed",
      method: "POST",
      route: "/api",
      path: "/api/sleep",
      status: 504,
      code: "TIMEOUT",
      sessionId: "s-504",
    });
    expect(warns[0]!["error"]).toMatch(
      /^RequestTimeoutError: request \S+ to api\/Api timed out after 500 ms/,
    );
  });

  it("logs a 500 from a user error with the class the user threw", async () => {
    const mark = q.lines.length;
    const res = await post(quiet, "/api/fail", JSON.stringify({ message: "kaput 7" }));
    expect(res.status).toBe(500);
    const warns = q.lines.slice(mark).filter((l) => l.level >= WARN);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      msg: "http request failed",
      route: "/api",
      status: 500,
      code: "USER_CODE",
      error: "TypeError: kaput 7",
      sessionId: null,
    });
  });

  it("logs a stream that failed after its 200 went out, marked midStream", async () => {
    const mark = q.lines.length;
    const res = await post(quiet, "/api/failAfter?stream=1", "2");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("stream broke after 2");
    const warns = q.lines.slice(mark).filter((l) => l.level >= WARN);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      status: 200,
      midStream: true,
      error: "RangeError: stream broke after 2",
    });
  });

  it("logs client errors (bad JSON, unknown route, no such method) at debug only", async () => {
    const mark = q.lines.length;
    expect((await post(quiet, "/api", '{"broken": ')).status).toBe(400);
    expect((await post(quiet, "/nope", "1")).status).toBe(404);
    expect((await post(quiet, "/api/noSuchMethod", "1")).status).toBe(404);
    const lines = q.lines.slice(mark);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
    const refused = lines.filter((l) => l.msg === "http request refused");
    expect(refused.map((l) => [l.level, l["status"], l["code"]])).toEqual([
      [DEBUG, 400, "BAD_REQUEST"],
      [DEBUG, 404, "DEPLOYMENT_NOT_FOUND"],
      [DEBUG, 404, "METHOD_NOT_FOUND"],
    ]);
  });

  it("writes at most 10 failure lines a second and one line counting the rest", async () => {
    // Start in a fresh one-second window: the failures of the tests before spent part of theirs.
    await new Promise((r) => setTimeout(r, 1100));
    const mark = q.lines.length;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(quiet, "/api/fail", JSON.stringify({ message: `f${i}` }))),
    );
    expect(results.every((r) => r.status === 500)).toBe(true);
    const suppressed = await waitUntil(() => {
      const s = after(q.lines, mark, "failed-request lines suppressed (rate limit)");
      return s.length > 0 ? s : undefined;
    });
    const written = after(q.lines, mark, "http request failed").length;
    // The 40 may straddle two one-second windows: at most 10 lines from each.
    expect(written).toBeGreaterThanOrEqual(10);
    expect(written).toBeLessThanOrEqual(20);
    expect(written + suppressed.reduce((n, l) => n + (l["suppressed"] as number), 0)).toBe(40);
    expect(suppressed[0]).toMatchObject({ level: WARN, windowMs: 1000 });
    // Let the window pass, so the budget of later tests is whole again.
    await new Promise((r) => setTimeout(r, 1100));
  });

  it("writes no per-request lines when the access log is off, one per request when on", async () => {
    const qMark = q.lines.length;
    const aMark = a.lines.length;
    expect((await post(quiet, "/api", "1", { "x-session-id": "u1" })).status).toBe(200);
    expect(q.lines.slice(qMark)).toEqual([]);
    for (const s of ["u1", "u2"]) {
      expect((await post(access, "/api", "1", { "x-session-id": s })).status).toBe(200);
    }
    expect((await post(access, "/api", "{")).status).toBe(400);
    const lines = after(a.lines, aMark, "http request");
    expect(lines.map((l) => [l.level, l["method"], l["path"], l["status"], l["sessionId"]])).toEqual([
      [INFO, "POST", "/api", 200, "u1"],
      [INFO, "POST", "/api", 200, "u2"],
      [INFO, "POST", "/api", 400, null],
    ]);
    for (const l of lines) expect(typeof l["ms"]).toBe("number");
  });

  it("logs a failed gRPC call (INTERNAL) as warn with the RPC, and NOT_FOUND at debug only", async () => {
    const mark = q.lines.length;
    const failed = (await unary(
      quietGrpc,
      "Fail",
      { message: "grpc kaput", grpc_code: 0, status: 0 },
      { application: "grpc", session_id: "g1" },
    )) as ServiceError;
    expect(failed.code).toBe(13);
    const notFound = (await unary(quietGrpc, "Whoami", {}, { application: "nope" })) as ServiceError;
    expect(notFound.code).toBe(5);
    const warns = q.lines.slice(mark).filter((l) => l.level >= WARN);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      msg: "grpc call failed",
      rpc: "/tsserve.test.Greeter/Fail",
      grpcCode: "INTERNAL",
      code: "USER_CODE",
      error: "TypeError: grpc kaput",
      sessionId: "g1",
    });
    expect(after(q.lines, mark, "grpc call refused")).toMatchObject([
      { level: DEBUG, rpc: "/tsserve.test.Greeter/Whoami", grpcCode: "NOT_FOUND" },
    ]);
  });

  it("writes one access line per gRPC call with its code and session id", async () => {
    const mark = a.lines.length;
    await unary(accessGrpc, "Whoami", {}, { application: "grpc", session_id: "g2" });
    await unary(accessGrpc, "Whoami", {}, { application: "nope" });
    const lines = after(a.lines, mark, "grpc call");
    expect(lines.map((l) => [l["rpc"], l["grpcCode"], l["sessionId"]])).toEqual([
      ["/tsserve.test.Greeter/Whoami", "OK", "g2"],
      ["/tsserve.test.Greeter/Whoami", "NOT_FOUND", null],
    ]);
  });

  it("warns once while the controller is unreachable and says when it is back", async () => {
    const mark = q.lines.length;
    await cluster.stopController();
    for (let i = 0; i < 3; i++) await quiet.refreshRoutes();
    const down = q.lines.slice(mark).filter((l) => l.level >= WARN);
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({
      msg: "controller status unreadable; the last route table stays in use",
      routes: 2,
    });
    expect(down[0]!["error"]).toMatch(
      /^UnavailableError: controller status request on ptest\.ctl\.status failed/,
    );
    // Routing goes on with the last table.
    expect((await post(quiet, "/api", "1")).status).toBe(200);
    await cluster.startController();
    for (let i = 0; i < 3; i++) await quiet.refreshRoutes();
    const back = after(q.lines, mark, "controller status readable again");
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ level: INFO, routes: 2 });
    expect(back[0]!["unreachableMs"]).toBeGreaterThanOrEqual(0);
    expect(after(q.lines, mark, "routes changed")).toEqual([]);
  });
});
