import { connect, type KV } from "nats";
import { describe, expect, it } from "vitest";
import { sleep, startNatsServer, waitUntil } from "@tsserve/test-utils";
import { LeaderLease } from "../src/controller/leader-lease.js";

const TTL_MS = 4000;
const RENEW_MS = 250;

/** A KV whose reads fail while `down` is set: a contender cut off from the bucket's leader. */
function flakyReads(kv: KV): { kv: KV; down: { value: boolean } } {
  const down = { value: false };
  const wrapped = new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop === "get")
        return (key: string) => (down.value ? Promise.reject(new Error("TIMEOUT (test)")) : target.get(key));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { kv: wrapped, down };
}

/** A lease named `holder` with the test's ttl and renew period (no callbacks). */
const lease = (kv: KV, holder: string): LeaderLease =>
  new LeaderLease(
    kv,
    holder,
    TTL_MS,
    RENEW_MS,
    () => undefined,
    () => undefined,
  );

/** A nats-server with a lease bucket, stopped on dispose. */
async function bucket(): Promise<{ kv: KV; [Symbol.asyncDispose]: () => Promise<void> }> {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  const kv = await nc.jetstream().views.kv("lease_test", { history: 1 });
  return {
    kv,
    [Symbol.asyncDispose]: async () => {
      await nc.close();
      await nats.stop();
    },
  };
}

/** A holder that leads and a contender whose reads can be made to fail. */
async function leases(): Promise<{
  holder: LeaderLease;
  contender: LeaderLease;
  down: { value: boolean };
  [Symbol.asyncDispose]: () => Promise<void>;
}> {
  const b = await bucket();
  const holder = lease(b.kv, "ctl-a");
  await holder.start();
  expect(holder.isLeader).toBe(true);
  const flaky = flakyReads(b.kv);
  const contender = lease(flaky.kv, "ctl-b");
  await contender.start();
  return {
    holder,
    contender,
    down: flaky.down,
    [Symbol.asyncDispose]: async () => {
      await holder.stop(false);
      await contender.stop(false);
      await b[Symbol.asyncDispose]();
    },
  };
}

describe("the leader lease", () => {
  it("a contender whose reads failed while the holder died takes over once ttl has passed since the holder's last renewal, not ttl after the reads return", async () => {
    await using l = await leases();
    await sleep(4 * RENEW_MS);
    expect(l.contender.isLeader).toBe(false);
    // The contender's reads fail (as during the bucket's leader election); the holder renews once
    // or twice more, then dies.
    l.down.value = true;
    await sleep(RENEW_MS + 100);
    await l.holder.stop(false);
    const diedAt = Date.now();
    // Reads return after the ttl has passed since the holder's last renewal.
    await sleep(TTL_MS + 500);
    l.down.value = false;
    const backAt = Date.now();
    await waitUntil(() => l.contender.isLeader, {
      timeoutMs: 2 * TTL_MS,
      intervalMs: 20,
      message: "contender leads",
    });
    const tookMs = Date.now() - backAt;
    console.log(
      `holder died ${backAt - diedAt} ms before the reads returned; the contender led ${tookMs} ms after`,
    );
    // Within about a renew period (its next tick), not a whole ttl after seeing the last renewal.
    expect(tookMs).toBeLessThan(TTL_MS / 2);
  });

  it("a contender whose reads failed for longer than the ttl does not take the lease from a holder that kept renewing", async () => {
    await using l = await leases();
    await sleep(4 * RENEW_MS);
    l.down.value = true;
    await sleep(TTL_MS + 1000);
    l.down.value = false;
    // The first renewal it sees is one sent just now: the holder is alive.
    const until = Date.now() + TTL_MS / 2;
    while (Date.now() < until) {
      expect(l.contender.isLeader).toBe(false);
      expect(l.holder.isLeader).toBe(true);
      await sleep(50);
    }
  });

  it("a contender that starts while the holder is dead waits the whole ttl: it has not seen the holder renew", async () => {
    await using b = await bucket();
    const holder = lease(b.kv, "ctl-a");
    await holder.start();
    await holder.stop(false);
    const contender = lease(b.kv, "ctl-b");
    const t0 = Date.now();
    await contender.start();
    try {
      await waitUntil(() => contender.isLeader, {
        timeoutMs: 3 * TTL_MS,
        intervalMs: 20,
        message: "contender leads",
      });
    } finally {
      await contender.stop(false);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(TTL_MS);
  });
});
