import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode, membersSubject, replicaControlSubject, type ReplicaFence } from "@tsserve/protocol/internal";
import { sleep, startNats, type NatsFixture, startReplica } from "@tsserve/test-utils";
import { APP, makeSpec } from "./helpers.js";

/** Resolves with the exit code, or "alive" if the process is still running after `ms`. */
function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null | "alive"> {
  return Promise.race([exited, sleep(ms).then(() => "alive" as const)]);
}

describe("replica fencing (it stops by itself)", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("obeys a stop order on its own subject for its generation only", async () => {
    const spec = { ...makeSpec(nats.url, "echo-app.ts", "Echo"), generation: 7 };
    await using replica = await startReplica(spec, { nc });
    const subject = replicaControlSubject(spec.prefix, APP, spec.deployment, spec.replicaId);
    const order = (generation: number): ReplicaFence => ({
      replicaId: spec.replicaId,
      generation,
      reason: "test",
    });
    nc.publish(subject, encode(order(6))); // another incarnation's order
    nc.publish(subject, encode({ nonsense: true })); // malformed: not an order
    expect(await exitWithin(replica.exited, 1000)).toBe("alive");
    nc.publish(subject, encode(order(7)));
    expect(await exitWithin(replica.exited, 5000)).toBe(0);
    expect(replica.stderr()).toContain("stopped by the controller");
  });

  it("exits when RUNNING but left out of every membership snapshot for longer than fenceAfterMs", async () => {
    const spec = { ...makeSpec(nats.url, "echo-app.ts", "Echo"), fenceAfterMs: 1500 };
    await using replica = await startReplica(spec, { nc });
    const snapshot = (version: number, ids: string[]): Uint8Array =>
      encode({
        app: APP,
        deployment: spec.deployment,
        version,
        replicas: ids.map((replicaId) => ({ replicaId, nodeId: "node-1" })),
        config: {
          maxOngoingRequests: 5,
          maxQueuedRequests: -1,
          requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
        },
      });
    const subject = membersSubject(spec.prefix, APP, spec.deployment);
    nc.publish(subject, snapshot(Date.now(), ["someone-else"]));
    await sleep(800);
    // Listed again before the bound: the clock starts over.
    nc.publish(subject, snapshot(Date.now(), [spec.replicaId]));
    expect(await exitWithin(replica.exited, 1200)).toBe("alive");
    nc.publish(subject, snapshot(Date.now(), []));
    expect(await exitWithin(replica.exited, 6000)).toBe(0);
    expect(replica.stderr()).toContain("left out of membership");
  });

  it("never serves when its expected parent is not its parent at start (orphaned before it ran)", async () => {
    // This test process is the real parent; the spec names another pid, as after an agent death.
    const spec = { ...makeSpec(nats.url, "echo-app.ts", "Echo"), parentPid: 1 << 22 };
    await using replica = await startReplica(spec, { nc, waitFor: false, stdout: "ignore" });
    expect(await replica.exited).toBe(1);
    expect(replica.stderr()).toContain("parent process");
    expect(replica.stderr()).not.toContain("RUNNING");
  });
});
