import { connect } from "nats";
import { describe, expect, it } from "vitest";
import { encode, type SessionRecord } from "@tsserve/protocol/internal";
import { startNatsServer } from "@tsserve/test-utils";
import { SessionStore, isRevisionConflict } from "../src/session/session-store.js";

const record = (id: string, owner: string, n: number): SessionRecord => ({
  id,
  owner,
  generation: 1,
  parked: false,
  state: encode({ n }),
  exported: null,
  at: Date.now(),
});

describe("SessionStore writes (its own JetStream publish, not nats.js's KV put)", () => {
  it("compare-and-sets on the revision: a stale or missing revision is a revision conflict and writes nothing", async () => {
    await using nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    try {
      const store = await SessionStore.open(nc, "t_sess_store");
      const r1 = await store.create(record("user 1/é", "a", 1));
      const r2 = await store.update(record("user 1/é", "a", 2), r1);
      expect(r2).toBeGreaterThan(r1);
      expect((await store.read("user 1/é"))?.revision).toBe(r2);

      // A fenced old owner writing on the revision it held before: refused, the record unchanged.
      const stale = await store.update(record("user 1/é", "old", 99), r1).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(Error);
      expect(isRevisionConflict(stale), String(stale)).toBe(true);
      expect((stale as Error).message).toMatch(/wrong last sequence/);
      const now = await store.read("user 1/é");
      expect(now?.revision).toBe(r2);
      expect(now?.record.owner).toBe("a");

      // A record that is gone (deleted, or expired by max_age) cannot be updated either.
      await store.remove("user 1/é", r2);
      const gone = await store.update(record("user 1/é", "a", 3), r2).catch((e: unknown) => e);
      expect(isRevisionConflict(gone), String(gone)).toBe(true);
      expect(await store.read("user 1/é")).toBeNull();

      // Not a conflict: no stream behind the subject (the bucket was deleted under the replica).
      await (await nc.jetstreamManager()).streams.delete("KV_t_sess_store");
      const noStream = await store.update(record("x", "a", 1), 5).catch((e: unknown) => e);
      expect(noStream).toBeInstanceOf(Error);
      expect(isRevisionConflict(noStream), String(noStream)).toBe(false);
    } finally {
      await nc.close();
    }
  }, 30_000);
});
