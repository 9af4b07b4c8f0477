/**
 * A handle keeps nothing per session (issue 20): ring points, load counts and probe state are per
 * replica, a pending request and its owner-patience entry live only while the call waits or runs,
 * and metric series are labelled by app, deployment, rank and outcome. So a handle that has seen
 * any number of distinct sessions holds the same heap. This test pushes 60,000 distinct sessions
 * through one ConsistentHash handle at the defaults (5 slots per replica, so calls wait with owner
 * patience) with the Prometheus sink attached, and bounds the heap growth after full collections.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { Registry } from "prom-client";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client, type DeploymentHandle } from "../src/index.js";
import { PromHandleMetricsSink } from "../src/metrics/prom-handle-sink.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

/** Heap in use after full collections (`gc` made available at run time, no CLI flag needed). */
async function settledHeap(): Promise<number> {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await yieldToLoop();
  }
  return process.memoryUsage().heapUsed;
}

/** One call per session id `${tag}${from}` … `${tag}${to - 1}`, 32 callers at a time. */
async function callSessions(handle: DeploymentHandle<Echo>, tag: string, from: number, to: number) {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) await handle.options({ sessionId: `${tag}${next++}` }).remote(null);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

describe("one handle's memory with many distinct sessions", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({
      url: nats.url,
      ids: [`sm${process.pid}a`, `sm${process.pid}b`],
      options: { maxOngoingRequests: 5 },
    });
    client = await connect({ address: nats.url, metrics: new PromHandleMetricsSink(new Registry()) });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("holds the same heap after 120,000 more distinct sessions (growth under 2 MB, < 17 B/session)", async () => {
    const handle = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({
        replicas: replicas.infos,
        config: { maxOngoingRequests: 5, requestRouter: { class: "ConsistentHash", kwargs: {} } },
      }),
    });
    // Warm-up: JIT, connection buffers, the metric series and the ring reach their steady size.
    await callSessions(handle, "warm", 0, 5000);
    const before = await settledHeap();
    // Two batches, so that a few hundred KB of GC noise (one CI run: over 1 MB for one batch) is
    // small beside what a per-session leak would add.
    await callSessions(handle, "s", 0, 60_000);
    await callSessions(handle, "t", 0, 60_000);
    const after = await settledHeap();
    // A Map entry per session (a 7-char key and a small value) would be ≥ 60 B each: ≥ 7.2 MB here.
    expect(after - before).toBeLessThan(2 << 20);
  }, 120_000);
});
