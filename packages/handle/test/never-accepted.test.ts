import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

/**
 * Issue 12: a burst sent right after an idle replica was SIGKILLed used to fail some calls with
 * ReplicaDiedError ("it may or may not have run") although they were published after the process
 * was dead: NATS still held the dead connection's subscription for a moment, so they vanished
 * without a no-responders. Replicas now acknowledge calls still running after a few ms, so a call
 * without any reply from a replica found dead never reached it and is sent elsewhere.
 */
describe("calls that never reached a replica (SIGKILL of an idle replica, then a burst)", () => {
  const TRIALS = 20;
  let nats: NatsFixture;
  let client: Client;
  const groups: ReplicaGroup[] = [];

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    client = await connect({ address: nats.url });
  });

  afterAll(async () => {
    await client?.close();
    for (const g of groups) await g.stop();
    await nats?.stop();
  });

  it(`loses no call in ${TRIALS} trials of 300 sticky calls sent around the kill`, async () => {
    const options = { maxOngoingRequests: 4 };
    const ids = ["a0", "b0", "c0", "d0"];
    const start = async (id: string): Promise<ReplicaGroup> => {
      const g = await startReplicas({ url: nats.url, ids: [id], options });
      groups.push(g);
      return g;
    };
    const live = new Map<string, ReplicaGroup>();
    for (const [id, g] of await Promise.all(ids.map(async (id) => [id, await start(id)] as const)))
      live.set(id, g);
    const membership = staticMembership({
      replicas: ids.map((replicaId) => ({ replicaId, nodeId: "node-1" })),
      config: {
        maxOngoingRequests: 4,
        requestRouter: { class: "ConsistentHash", kwargs: { spillAfterMs: 0 } },
      },
    });
    const h = client.getDeploymentHandle<Echo>("Echo", { app: "app", membership });
    const failures: string[] = [];
    let calls = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      // Warm: every replica answers, so the handle's cache says they are all idle.
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => h.options({ sessionId: `w${i}` }).slow.remote(1)),
      );
      const victim = [...live.keys()][trial % live.size]!;
      const group = live.get(victim)!;
      let results: PromiseSettledResult<number>[];
      const burst = () =>
        Promise.allSettled(
          Array.from({ length: 300 }, (_, i) =>
            h.options({ sessionId: `t${trial}-s${i}`, timeoutMs: 20_000 }).slow.remote(1),
          ),
        );
      // The replacement (a new incarnation under a new id, as the controller would start) boots
      // while the burst runs.
      const next = `${victim[0]}${trial + 1}`;
      const replacement = start(next);
      if (trial % 2 === 0) {
        // As found: the burst follows the kill by 0–5 ms (NATS may still deliver to the corpse).
        await group.kill(victim, "SIGKILL");
        await new Promise((r) => setTimeout(r, trial % 6));
        results = await burst();
      } else {
        // The same race made certain: the replica is frozen while the burst reaches it, then
        // killed, so calls were delivered to it that it never read.
        group.get(victim).child.kill("SIGSTOP");
        const pending = burst();
        await new Promise((r) => setTimeout(r, 50));
        await group.kill(victim, "SIGKILL");
        results = await pending;
      }
      calls += results.length;
      for (const r of results) if (r.status === "rejected") failures.push(String(r.reason));
      live.delete(victim);
      live.set(next, await replacement);
      membership.update([...live.keys()].map((replicaId) => ({ replicaId, nodeId: "node-1" })));
    }
    expect(calls).toBe(300 * TRIALS);
    expect(failures).toEqual([]);
  }, 240_000);
});
