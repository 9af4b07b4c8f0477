// A controller started with the NATS cluster, before JetStream knows enough servers to place its
// replicated bucket ("no suitable peers for placement"), waits for them instead of exiting.
import { describe, expect, it } from "vitest";
import { Controller, ControllerClient } from "@tsserve/controller";
import { waitUntil } from "@tsserve/test-utils";
import { startNatsCluster } from "../src/nats-cluster.js";
import { connect as natsConnect } from "nats";

describe("a controller starting before JetStream can hold its bucket", () => {
  it("retries the bucket while the third server has not joined, logs why, and leads once it has", async () => {
    await using nats = await startNatsCluster({ held: [2] });
    const [n1] = nats.nodes;
    const lines: string[] = [];
    const controller = new Controller({
      address: n1!.url,
      prefix: "forming",
      kvReplicas: 3,
      log: (l) => lines.push(l),
    });
    const started = controller.start();
    let startError: unknown;
    started.catch((e: unknown) => (startError = e));
    await waitUntil(() => lines.some((l) => /JetStream not ready yet/.test(l)) || startError, {
      timeoutMs: 20_000,
      message: () => `a retry line\n${lines.join("\n")}`,
    });
    expect(startError).toBeUndefined();
    await nats.restart(2);
    await started;
    const nc = await natsConnect({ servers: n1!.url });
    try {
      const client = new ControllerClient(nc, { prefix: "forming", timeoutMs: 2000 });
      const status = await waitUntil(() => client.status().catch(() => undefined), {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: () => `the controller answering\n${lines.join("\n")}`,
      });
      expect(status.controller?.id).toBe(controller.id);
      const info = await (await nc.jetstreamManager()).streams.info("KV_tsserve_forming");
      expect(info.config.num_replicas).toBe(3);
    } finally {
      await controller.stop();
      await nc.close();
    }
  });
});
