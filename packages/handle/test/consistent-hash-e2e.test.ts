/**
 * ConsistentHash end to end: a real nats-server, four real replica processes, a real client with
 * static membership. Ports Ray's TestConsistentHashRouting scenarios.
 */
import { type NatsConnection } from "nats";
import { decodeReply, probeSubject } from "@tsserve/protocol/internal";
import { startNats, waitUntil, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client, type DeploymentHandle } from "../src/index.js";
import type { StickyEcho } from "./fixtures/consistent-hash-app.js";
import {
  APP,
  DEPLOYMENT,
  PREFIX,
  startStickyReplicas,
  type StickyReplicas,
} from "./fixtures/consistent-hash-replicas.js";

describe("ConsistentHash end to end (4 replica processes, maxOngoingRequests 1)", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let client: Client;
  let replicas: StickyReplicas;
  let handle: DeploymentHandle<StickyEcho>;
  const ranksOf = (session: string): string[] => replicas.ranksOf(session);
  /** A replica's queue length, probed over raw NATS. */
  const queueLen = async (replicaId: string): Promise<number> => {
    const msg = await nc.request(probeSubject(PREFIX, APP, DEPLOYMENT, replicaId), new Uint8Array([1]), {
      timeout: 2000,
    });
    return decodeReply(msg.data).queueLen;
  };

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    const ids = [0, 1, 2, 3].map((i) => `ch${process.pid}x${i}`);
    replicas = await startStickyReplicas(nc, nats.url, ids, 1);
    client = await connect({ address: nats.url, prefix: PREFIX });
    handle = client.getDeploymentHandle<StickyEcho>(DEPLOYMENT, {
      app: APP,
      membership: staticMembership({
        replicas: replicas.infos,
        config: { maxOngoingRequests: 1, requestRouter: { class: "ConsistentHash", kwargs: {} } },
      }),
    });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("keeps 20 calls of one session on one replica: the one Ray's ring names", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await handle.options({ sessionId: "user_123" }).whoami.remote());
    expect([...seen]).toEqual([ranksOf("user_123")[0]]);
  });

  it("spreads 40 sessions over at least 3 of the 4 replicas, each on its ring owner", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const got = await handle.options({ sessionId: `sess_${i}` }).whoami.remote();
      expect(got).toBe(ranksOf(`sess_${i}`)[0]);
      seen.add(got);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it("routes session-less calls too, spread by request id", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await handle.whoami.remote());
    expect(seen.size).toBeGreaterThan(1);
  });

  it("overflows to the first fallback while the primary is busy, and returns once it drains", async () => {
    const [primary, fb1] = ranksOf("user_42");
    const busy = handle.options({ sessionId: "user_42" }).hold.remote(1500);
    // Wait until the hold runs on the primary and takes its only slot.
    await waitUntil(async () => (await queueLen(primary!)) === 1, { message: "hold running on the primary" });
    expect(await handle.options({ sessionId: "user_42" }).whoami.remote()).toBe(fb1);
    expect(await busy).toBe(primary);
    for (let i = 0; i < 5; i++)
      expect(await handle.options({ sessionId: "user_42" }).whoami.remote()).toBe(primary);
  });

  it("keeps a session sticky while session-less calls are interleaved", async () => {
    const seen = new Set<string>();
    const anonymous = new Set<string>();
    for (let i = 0; i < 15; i++) {
      seen.add(await handle.options({ sessionId: "mixed_user" }).whoami.remote());
      anonymous.add(await handle.whoami.remote());
    }
    expect([...seen]).toEqual([ranksOf("mixed_user")[0]]);
    expect(anonymous.size).toBeGreaterThan(1);
  });
});
