import { describe, expect, it } from "vitest";
import { startNatsServer, waitUntil } from "@tsserve/test-utils";
import { defaultStateBucket } from "@tsserve/controller/internal";
import {
  countAgentStarts,
  deployRequest,
  PREFIX,
  startHarness,
  waitForRunning,
} from "./helpers/controller-harness.js";
import { spawnController } from "./helpers/controller-process.js";

describe("Controller leader lease", () => {
  it("lets only one of two controllers started together act, and the other take over when it dies", async () => {
    // Controller B starts in the same instant as the local cluster's controller A.
    const nats = await startNatsServer();
    await using b = spawnController(nats.url, PREFIX, "ctl-B");
    await using h = await startHarness(1, ["--controller-id", "ctl-A"], nats);
    const starts = countAgentStarts(h.client);
    const kv = await h.client.nc.jetstream().views.kv(defaultStateBucket(PREFIX), { history: 1 });
    const holder = async (): Promise<string> => {
      const e = await kv.get("leader");
      return e && e.operation === "PUT" ? (JSON.parse(e.string()) as { holder: string }).holder : "";
    };
    const leader = await holder();
    expect(["ctl-A", "ctl-B"]).toContain(leader);

    await h.cluster.client.deploy(deployRequest("two", "worker", { numReplicas: 3 }));
    const three = await waitForRunning(h.cluster, "two", "Worker", 3);
    await new Promise((r) => setTimeout(r, 1000));
    // Exactly N replicas were started: one controller acted.
    expect(starts.counts.get("Worker")).toBe(3);
    expect(b.stderr().includes("ctl-B is the leader")).toBe(leader === "ctl-B");

    // The leader dies: the passive one takes over, adopts the replicas, and acts.
    if (leader === "ctl-B") await b.kill();
    else await h.cluster.killController();
    await waitUntil(async () => (await holder()) !== leader && (await holder()) !== "", {
      timeoutMs: 10_000,
      message: "the lease taken over",
    });
    // The new leader answers ctl.* once it has read the checkpoint and subscribed (recovery).
    await waitUntil(
      () =>
        h.cluster.client.status().then(
          () => true,
          () => false,
        ),
      {
        timeoutMs: 15_000,
        message: "the new leader answering",
      },
    );
    await h.cluster.client.deploy(deployRequest("two", "worker", { numReplicas: 4 }));
    const four = await waitForRunning(h.cluster, "two", "Worker", 4);
    const ids = new Set(four.replicas.map((r) => r.replicaId));
    for (const r of three.replicas) expect(ids.has(r.replicaId)).toBe(true);
    expect(starts.counts.get("Worker")).toBe(4);
    starts.stop();
  });
});
