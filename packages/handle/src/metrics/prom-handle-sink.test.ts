import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PromHandleMetricsSink } from "./prom-handle-sink.js";

function line(text: string, series: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(series + " "));
}

describe("PromHandleMetricsSink", () => {
  it("shows every count at each scrape, counted since the last one without losing any", async () => {
    const registry = new Registry();
    const sink = new PromHandleMetricsSink(registry);
    for (let i = 0; i < 5; i++) sink.requestRouted("chat", "Chat", "r0", i < 4 ? 0 : 1);
    sink.requestRejected("chat", "Chat");
    sink.requestCompleted("chat", "Chat", 1, "ok");
    sink.requestCompleted("chat", "Chat", 1, "ok");
    sink.requestCompleted("chat", "Chat", 1, "USER_CODE");
    sink.queuedChanged("chat", "Chat", 7);
    sink.queuedChanged("api", "Api", 1);
    let text = await registry.metrics();
    expect(line(text, 'tsserve_router_fallback_rank_total{app="chat",deployment="Chat",rank="0"}')).toMatch(
      / 4$/,
    );
    expect(line(text, 'tsserve_router_fallback_rank_total{app="chat",deployment="Chat",rank="1"}')).toMatch(
      / 1$/,
    );
    expect(line(text, 'tsserve_replica_rejections_total{app="chat",deployment="Chat"}')).toMatch(/ 1$/);
    expect(line(text, 'tsserve_handle_requests_total{app="chat",deployment="Chat",outcome="ok"}')).toMatch(
      / 2$/,
    );
    expect(
      line(text, 'tsserve_handle_requests_total{app="chat",deployment="Chat",outcome="USER_CODE"}'),
    ).toMatch(/ 1$/);
    expect(line(text, 'tsserve_handle_queued_requests{app="chat",deployment="Chat"}')).toMatch(/ 7$/);
    expect(line(text, 'tsserve_handle_queued_requests{app="api",deployment="Api"}')).toMatch(/ 1$/);
    expect(line(text, 'tsserve_handle_owner_share{app="chat",deployment="Chat"}')).toMatch(/ 0\.8$/);

    // A second scrape adds what happened since, once: nothing is counted twice.
    sink.requestRouted("chat", "Chat", "r0", 1);
    sink.requestCompleted("chat", "Chat", 1, "ok");
    sink.queuedChanged("chat", "Chat", 0);
    text = await registry.metrics();
    expect(line(text, 'tsserve_router_fallback_rank_total{app="chat",deployment="Chat",rank="0"}')).toMatch(
      / 4$/,
    );
    expect(line(text, 'tsserve_router_fallback_rank_total{app="chat",deployment="Chat",rank="1"}')).toMatch(
      / 2$/,
    );
    expect(line(text, 'tsserve_handle_requests_total{app="chat",deployment="Chat",outcome="ok"}')).toMatch(
      / 3$/,
    );
    expect(line(text, 'tsserve_replica_rejections_total{app="chat",deployment="Chat"}')).toMatch(/ 1$/);
    expect(line(text, 'tsserve_handle_queued_requests{app="chat",deployment="Chat"}')).toMatch(/ 0$/);
    expect(line(text, 'tsserve_handle_queued_requests{app="api",deployment="Api"}')).toMatch(/ 1$/);
    expect(line(text, 'tsserve_handle_owner_share{app="chat",deployment="Chat"}')).toMatch(/ 0\.6666/);
  });

  it("two sinks on one registry add up, whichever series a scrape reads first", async () => {
    const registry = new Registry();
    const a = new PromHandleMetricsSink(registry);
    const b = new PromHandleMetricsSink(registry);
    a.requestCompleted("x", "X", 1, "ok");
    b.requestCompleted("x", "X", 1, "ok");
    const m = await registry.getSingleMetric("tsserve_handle_requests_total")!.get();
    expect(m.values.find((v) => v.labels.outcome === "ok")?.value).toBe(2);
  });

  it("counts at once into series another component registered first", async () => {
    const registry = new Registry();
    new Counter({
      name: "tsserve_handle_requests_total",
      help: "made elsewhere",
      labelNames: ["app", "deployment", "outcome"],
      registers: [registry],
    });
    const sink = new PromHandleMetricsSink(registry);
    sink.requestCompleted("x", "X", 1, "TIMEOUT");
    const m = await registry.getSingleMetric("tsserve_handle_requests_total")!.get();
    expect(m.values.find((v) => v.labels.outcome === "TIMEOUT")?.value).toBe(1);
  });
});
