import { isReplicaDiedError } from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";
import { errorOf } from "./helpers/error-of.js";

describe("replica death (SIGKILL of real replica processes)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1", "r2", "r3", "r4"] });
    client = await connect({ address: nats.url });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("routes the next calls to the others without an error when an idle replica is killed", async () => {
    const group = replicas.infos.slice(0, 3);
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: group }),
    });
    // Warm the cache so that the dead replica looks attractive (queue 0) afterwards.
    await Promise.all(Array.from({ length: 30 }, () => h.options({ timeoutMs: 5000 }).slow.remote(5)));
    const deadPid = replicas.get("r1").child.pid;
    await replicas.kill("r1", "SIGKILL");
    const pids = await Promise.all(
      Array.from({ length: 30 }, () => h.options({ timeoutMs: 5000 }).slow.remote(5)),
    );
    expect(pids).toHaveLength(30);
    expect(pids).not.toContain(deadPid);
  });

  it("fails a request whose replica is killed mid-request with ReplicaDiedError, well before its timeout", async () => {
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: [replicas.infos[3]!] }),
    });
    const response = h.options({ timeoutMs: 15_000 }).slow.remote(30_000);
    await new Promise((r) => setTimeout(r, 300));
    const start = performance.now();
    await replicas.kill("r4", "SIGKILL");
    const error = await errorOf(response);
    expect(isReplicaDiedError(error)).toBe(true);
    expect((error as Error).message).toContain("r4");
    expect(performance.now() - start).toBeLessThan(3500);
  });

  it("fails a request with no timeout too instead of hanging", async () => {
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: [replicas.infos[2]!] }),
    });
    const response = h.slow.remote(30_000);
    await new Promise((r) => setTimeout(r, 300));
    const start = performance.now();
    await replicas.kill("r3", "SIGKILL");
    expect(isReplicaDiedError(await errorOf(response))).toBe(true);
    expect(performance.now() - start).toBeLessThan(3500);
  });
});
