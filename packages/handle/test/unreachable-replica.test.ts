import { isReplicaDiedError } from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

/**
 * Issue 12: a replica that stops answering (a cut link; here a SIGSTOPped process, which keeps its
 * NATS subscription) used to get calls for about a minute, each waiting for its full timeout, or
 * forever without one. Unanswered liveness probes now take it out of routing and fail its calls.
 */
describe("an unreachable replica (SIGSTOP: alive for NATS, silent for us)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["u1", "u2"] });
    client = await connect({ address: nats.url });
  });

  afterAll(async () => {
    replicas?.get("u1").child.kill("SIGCONT");
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("stops routing to it within 5 s and fails its calls typed, never hanging", async () => {
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: replicas.infos }),
    });
    const u1 = replicas.get("u1").child.pid;
    await Promise.all(Array.from({ length: 20 }, () => h.slow.remote(1)));
    replicas.get("u1").child.kill("SIGSTOP");
    const stoppedAt = performance.now();
    const outcomes: { startedAt: number; endedAt: number; ok: boolean; pid?: number; error?: unknown }[] = [];
    // Four callers, no timeout, for 8 s.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - stoppedAt < 8000) {
          const startedAt = performance.now() - stoppedAt;
          try {
            const pid = await h.slow.remote(5);
            outcomes.push({ startedAt, endedAt: performance.now() - stoppedAt, ok: true, pid });
          } catch (error) {
            outcomes.push({ startedAt, endedAt: performance.now() - stoppedAt, ok: false, error });
          }
        }
      }),
    );
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed.length).toBeGreaterThan(0); // some calls were on u1 when it froze
    for (const f of failed) {
      expect(isReplicaDiedError(f.error)).toBe(true);
      expect(f.endedAt).toBeLessThan(8000);
    }
    const late = outcomes.filter((o) => o.startedAt >= 5000);
    expect(late.length).toBeGreaterThan(10);
    for (const o of late) {
      expect(o.ok).toBe(true);
      expect(o.pid).not.toBe(u1);
      expect(o.endedAt - o.startedAt).toBeLessThan(1000);
    }
  });
});
