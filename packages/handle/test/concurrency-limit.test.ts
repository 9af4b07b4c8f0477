import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

const run = promisify(execFile);
const CALLER = fileURLToPath(new URL("./fixtures/caller.mjs", import.meta.url));

describe("maxOngoingRequests across handles in separate processes", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1", "r2"], options: { maxOngoingRequests: 2 } });
    client = await connect({ address: nats.url });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("never runs more than 2 at once on a replica while two processes send 50 calls each", async () => {
    const caller = () =>
      run(process.execPath, [CALLER, nats.url, "r1,r2", "50", "2", "30"], { timeout: 60_000 });
    const outputs = await Promise.all([caller(), caller()]);
    for (const { stdout } of outputs) {
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { ok: number; errors: string[] };
      expect(result.errors).toEqual([]);
      expect(result.ok).toBe(50);
    }
    for (const info of replicas.infos) {
      const h = client.getDeploymentHandle<Echo>("Echo", {
        app: "app",
        membership: staticMembership({ replicas: [info], config: { maxOngoingRequests: 2 } }),
      });
      const peak = await h.peakOngoing.remote();
      expect(peak).toBeGreaterThanOrEqual(1);
      expect(peak).toBeLessThanOrEqual(2);
    }
  });
});
