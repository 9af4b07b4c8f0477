/**
 * ConsistentHash with loadBound end to end: one hot session over real replica processes. Its
 * requests overlap in time; without a bound they all pile onto its primary, with loadBound 1.25 the
 * handle's in-flight counts spread them.
 */
import { type NatsConnection } from "nats";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
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

const HOT = "hot_session";
const CALLS = 12;

describe("ConsistentHash loadBound end to end (4 replica processes, maxOngoingRequests 16)", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let client: Client;
  let replicas: StickyReplicas;

  const handleWith = (kwargs: Record<string, unknown>): DeploymentHandle<StickyEcho> =>
    client.getDeploymentHandle<StickyEcho>(DEPLOYMENT, {
      app: APP,
      // A membership source per handle gives each its own router and in-flight counts.
      membership: staticMembership({
        replicas: replicas.infos,
        config: { maxOngoingRequests: 16, requestRouter: { class: "ConsistentHash", kwargs } },
      }),
    });

  /** Sends CALLS overlapping hold() calls of the hot session, one every 25 ms; returns where each ran. */
  async function hotBurst(handle: DeploymentHandle<StickyEcho>): Promise<Map<string, number>> {
    const calls: PromiseLike<string>[] = [];
    for (let i = 0; i < CALLS; i++) {
      calls.push(handle.options({ sessionId: HOT }).hold.remote(1200));
      await new Promise((r) => setTimeout(r, 25));
    }
    const perReplica = new Map<string, number>();
    for (const id of await Promise.all(calls)) perReplica.set(id, (perReplica.get(id) ?? 0) + 1);
    return perReplica;
  }

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    const ids = [0, 1, 2, 3].map((i) => `lb${process.pid}x${i}`);
    replicas = await startStickyReplicas(nc, nats.url, ids, 16);
    client = await connect({ address: nats.url, prefix: PREFIX });
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("without a bound, overlapping calls of one session all run on its primary", async () => {
    const handle = handleWith({});
    // Warm-up, as in the bounded case: on a loaded machine a first probe slower than the owner
    // patience would let the first call spill.
    expect(await handle.options({ sessionId: HOT }).whoami.remote()).toBe(replicas.ranksOf(HOT)[0]);
    const perReplica = await hotBurst(handle);
    expect([...perReplica]).toEqual([[replicas.ranksOf(HOT)[0], CALLS]]);
  });

  it("with loadBound 1.25, no replica holds more than ceil(1.25 x mean) + 1 of them", async () => {
    const handle = handleWith({ loadBound: 1.25 });
    // Warm-up: one call so the queue-length cache knows the replicas (as in steady traffic).
    expect(replicas.ids).toContain(await handle.options({ sessionId: HOT }).whoami.remote());
    const perReplica = await hotBurst(handle);
    const bound = Math.ceil((1.25 * CALLS) / replicas.ids.length) + 1;
    expect(Math.max(...perReplica.values())).toBeLessThanOrEqual(bound);
    expect(perReplica.size).toBeGreaterThanOrEqual(3);
    // The primary still takes its bounded share.
    expect(perReplica.get(replicas.ranksOf(HOT)[0]!)).toBeGreaterThanOrEqual(2);
  });
});
