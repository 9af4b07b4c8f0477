import { type NatsConnection } from "nats";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import type { SessionStateMode } from "@tsserve/protocol";
import { startNats, type NatsFixture, type ReplicaFixture } from "@tsserve/test-utils";
import { call, okValue, startSessionPair } from "./helpers.js";

const ok = okValue;

// Replicas without a controller have no membership view: each runs the sessions whose calls reach
// it, so a test moves a session by calling another replica, as a handle with a newer ring would.
describe("session hand-off between replica processes", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  const started: ReplicaFixture[] = [];
  let n = 0;

  beforeAll(async () => {
    nats = await startNats();
    nc = nats.nc;
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.kill()));
  });
  afterAll(async () => {
    await nats?.stop();
  });

  /** Two replicas of a fresh deployment (its own bucket) in `mode`. */
  const pair = async (mode: SessionStateMode): Promise<[ReplicaFixture, ReplicaFixture]> => {
    const replicas = await startSessionPair(nats.url, nc, `handoff${++n}`, {
      sessionState: { mode, handoffTimeoutS: 5 },
      shared: ["read"],
    });
    started.push(...replicas);
    return replicas;
  };
  const append = async (r: ReplicaFixture, session: string, k: number): Promise<any> =>
    ok(await call(nc, r.requestSubject, "append", [k], { sessionId: session }));

  it("moves a live session to the replica its next call reaches (scale-up), state intact", async () => {
    const [a, b] = await pair("memory");
    for (let k = 1; k <= 3; k++) await append(a, "s1", k);
    ok(await call(nc, a.requestSubject, "note", ["cached on a"], { sessionId: "s1" }));
    const moved = await append(b, "s1", 4);
    expect(moved).toMatchObject({ seen: [1, 2, 3], origin: "restored", replica: b.spec.replicaId });
    // The class's own state came along through exportSession/importSession.
    expect(ok(await call(nc, b.requestSubject, "note", ["x"], { sessionId: "s1" }))).toBe("cached on a");
    // A late call at the old owner is forwarded to the new one, not run there.
    const late = await append(a, "s1", 5);
    expect(late).toMatchObject({ seen: [1, 2, 3, 4], replica: b.spec.replicaId });
  });

  it("lets the running call finish on the old owner before the new owner runs the next", async () => {
    const [a, b] = await pair("memory");
    await append(a, "s2", 1);
    const slow = call(nc, a.requestSubject, "append", [2, 400], { sessionId: "s2" });
    await new Promise((r) => setTimeout(r, 100));
    const next = await append(b, "s2", 3);
    expect(ok(await slow)).toMatchObject({ seen: [1], replica: a.spec.replicaId });
    expect(next).toMatchObject({ seen: [1, 2], replica: b.spec.replicaId });
  });

  it("parks every session at drain; the next owner imports it (memory mode)", async () => {
    const [a, b] = await pair("memory");
    for (const s of ["d1", "d2", "d3"]) {
      await append(a, s, 1);
      await append(a, s, 2);
    }
    await a.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    for (const s of ["d1", "d2", "d3"]) {
      expect(await append(b, s, 3)).toMatchObject({ seen: [1, 2], origin: "restored" });
    }
  });

  it("tells the next call its state was lost when the owner is SIGKILLed (memory mode)", async () => {
    const [a, b] = await pair("memory");
    await append(a, "k1", 1);
    await a.kill("SIGKILL");
    const after = await append(b, "k1", 2);
    expect(after).toMatchObject({ seen: [], origin: "lost", replica: b.spec.replicaId });
    expect(await append(b, "k1", 3)).toMatchObject({ seen: [2] });
  });

  it("loses no answered update when the owner is SIGKILLed (durable mode)", async () => {
    const [a, b] = await pair("durable");
    for (let k = 1; k <= 5; k++) await append(a, "k2", k);
    await a.kill("SIGKILL");
    expect(await append(b, "k2", 6)).toMatchObject({ seen: [1, 2, 3, 4, 5], origin: "restored" });
  });
});
