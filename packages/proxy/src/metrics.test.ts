import { describe, expect, it } from "vitest";
import { ProxyMetrics } from "./metrics.js";

describe("ProxyMetrics", () => {
  it("counts HTTP requests by route and status and records their latency", async () => {
    const m = new ProxyMetrics();
    m.observeHttp("/chat", 200, 0.003);
    m.observeHttp("/chat", 200, 0.004);
    m.observeHttp("/chat", 503, 0.001);
    const text = await m.render();
    expect(text).toContain('tsserve_http_requests_total{route="/chat",status="200"} 2');
    expect(text).toContain('tsserve_http_requests_total{route="/chat",status="503"} 1');
    expect(text).toContain('tsserve_http_request_duration_seconds_count{route="/chat"} 3');
    expect(text).toContain('tsserve_http_request_duration_seconds_bucket{le="0.005",route="/chat"} 3');
  });

  it("feeds handle-side series from the sink", async () => {
    const m = new ProxyMetrics();
    const { sink } = m;
    sink.requestRouted?.("chat", "Chat", "r1", 0);
    sink.requestRouted?.("chat", "Chat", "r2", 1);
    sink.requestRejected?.("chat", "Chat", "r1");
    sink.requestCompleted?.("chat", "Chat", 3, "ok");
    sink.requestCompleted?.("chat", "Chat", 3, "USER_CODE");
    sink.queueLength?.("chat", "Chat", "r1", 4);
    sink.routerRebuilt?.("chat", "Chat", 0.2);
    const text = await m.render();
    expect(text).toContain('tsserve_router_fallback_rank_total{app="chat",deployment="Chat",rank="1"} 1');
    expect(text).toContain('tsserve_replica_rejections_total{app="chat",deployment="Chat"} 1');
    expect(text).toContain(
      'tsserve_handle_requests_total{app="chat",deployment="Chat",outcome="USER_CODE"} 1',
    );
    expect(text).toContain('tsserve_replica_queue_length{app="chat",deployment="Chat",replica="r1"} 4');
    expect(text).toContain('tsserve_router_rebuilds_total{app="chat",deployment="Chat"} 1');
    expect(text).toContain('tsserve_router_rebuild_duration_seconds_count{app="chat",deployment="Chat"} 1');
  });

  it("shows the handle's latest queue length per deployment at scrape time", async () => {
    const m = new ProxyMetrics();
    m.sink.queuedChanged?.("chat", "Chat", 3);
    m.sink.queuedChanged?.("chat", "Chat", 7);
    m.sink.queuedChanged?.("api", "Api", 1);
    let text = await m.render();
    expect(text).toContain('tsserve_handle_queued_requests{app="chat",deployment="Chat"} 7');
    expect(text).toContain('tsserve_handle_queued_requests{app="api",deployment="Api"} 1');
    m.sink.queuedChanged?.("chat", "Chat", 0);
    text = await m.render();
    expect(text).toContain('tsserve_handle_queued_requests{app="chat",deployment="Chat"} 0');
  });

  it("sets replica counts per state from status and drops queue series of replicas that left", async () => {
    const m = new ProxyMetrics();
    m.sink.queueLength?.("chat", "Chat", "gone", 2);
    m.sink.queueLength?.("chat", "Chat", "r1", 1);
    const replica = (replicaId: string, state: "RUNNING" | "DRAINING") => ({
      replicaId,
      state,
      nodeId: "n",
      ongoing: 0,
      startedAt: 0,
      pid: 1,
    });
    m.updateFromStatus([
      {
        name: "chat",
        routePrefix: "/chat",
        ingress: "Chat",
        deployments: [
          {
            name: "Chat",
            status: "HEALTHY",
            message: "",
            targetReplicas: 2,
            replicas: [replica("r1", "RUNNING"), replica("r2", "RUNNING"), replica("r3", "DRAINING")],
          },
        ],
      },
    ]);
    const text = await m.render();
    expect(text).toContain('tsserve_replicas{app="chat",deployment="Chat",state="RUNNING"} 2');
    expect(text).toContain('tsserve_replicas{app="chat",deployment="Chat",state="DRAINING"} 1');
    expect(text).toContain('tsserve_replicas{app="chat",deployment="Chat",state="STARTING"} 0');
    expect(text).toContain('replica="r1"} 1');
    expect(text).not.toContain('replica="gone"');
  });

  it("keeps registries of two proxies apart", async () => {
    const a = new ProxyMetrics();
    const b = new ProxyMetrics();
    a.observeHttp("/a", 200, 0.001);
    expect(await b.render()).not.toContain('route="/a"');
  });
});
