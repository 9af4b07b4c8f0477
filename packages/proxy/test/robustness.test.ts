import { connect as netConnect, type Socket } from "node:net";
import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controllerSubject, encode, type ControllerReply } from "@tsserve/protocol/internal";
import { type StatusReport } from "@tsserve/protocol";
import { connect as connectClient } from "@tsserve/handle";
import { startNats, waitUntil, type NatsFixture } from "@tsserve/test-utils";
import { ProxyMetrics } from "../src/metrics.js";
import { startProxy, type Proxy } from "../src/index.js";

const PREFIX = "prob";

/** Opens a raw TCP connection to the proxy and collects everything it sends until it closes. */
function rawSocket(proxy: Proxy): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const socket = netConnect(proxy.port, "127.0.0.1", () =>
      resolve({ socket, received: () => data, closed }),
    );
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.once("error", reject);
  });
}

describe("proxy robustness against bad clients", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let proxy: Proxy;
  let statusCalls = 0;
  let routePrefix = "/a";

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    // Controller stand-in: one application, whose prefix the test can change.
    nc.subscribe(controllerSubject(PREFIX, "status"), {
      callback: (_err, msg) => {
        statusCalls++;
        const value: StatusReport = {
          applications: [{ name: "a", routePrefix, ingress: "A", deployments: [] }],
          nodes: [],
        };
        msg.respond(encode({ ok: true, value } satisfies ControllerReply<StatusReport>));
      },
    });
    await nc.flush();
    proxy = await startProxy({
      address: nats.url,
      prefix: PREFIX,
      port: 0,
      requestTimeoutMs: 600,
      routeRefreshMs: 100,
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await nats?.stop();
  });

  it("cuts off a client that never finishes its headers (slow loris) and keeps serving", async () => {
    const started = Date.now();
    const c = await rawSocket(proxy);
    c.socket.write("POST /a HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await fetch(`${proxy.url}/-/healthz`)).status).toBe(200);
  });

  it("cuts off a client that trickles its body past the request deadline", async () => {
    const c = await rawSocket(proxy);
    c.socket.write("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers 400 to bytes that are not HTTP and keeps serving", async () => {
    const c = await rawSocket(proxy);
    c.socket.write("\u0000\u0001 this is not http\r\n\r\n");
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${proxy.url}/-/healthz`)).status).toBe(200);
  });

  it("answers 405 with Allow for methods other than GET and POST", async () => {
    const res = await fetch(`${proxy.url}/a`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it("follows route changes from the controller's status", async () => {
    expect(statusCalls).toBeGreaterThan(0);
    routePrefix = "/b";
    await waitUntil(
      async () => {
        const routes = (await (await fetch(`${proxy.url}/-/routes`)).json()) as Record<string, unknown>;
        return "/b" in routes && !("/a" in routes);
      },
      { timeoutMs: 3000, message: "route /b replaces /a" },
    );
    const res = await fetch(`${proxy.url}/a`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
  });

  it("routes through a caller's client, exports its sink's series, and leaves it open on close", async () => {
    const metrics = new ProxyMetrics();
    const client = await connectClient({ address: nats.url, prefix: PREFIX, metrics: metrics.sink });
    const own = await startProxy({ client, metrics, port: 0 });
    try {
      const routes = (await (await fetch(`${own.url}/-/routes`)).json()) as Record<string, unknown>;
      expect(Object.keys(routes)).toEqual(["/b"]);
      expect(own.metrics).toBe(metrics);
    } finally {
      await own.close();
    }
    expect(client.nc.isClosed()).toBe(false);
    await client.close();
  });

  it("rejects bad options with a clear error", async () => {
    await expect(startProxy({ address: nats.url, port: -1 })).rejects.toThrow(
      "proxy option port: expected an integer between 0 and 65535, got -1",
    );
  });
});
