import { type NatsConnection } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SessionStateMode } from "@tsserve/protocol";
import { ReplyKind } from "@tsserve/protocol/internal";
import { startNats, type NatsFixture, type ReplicaFixture } from "@tsserve/test-utils";
import { call, okValue, startSessionPair } from "./helpers.js";

const ok = okValue;

// A replica forwards a late call of a session it handed off to where the session went. When that
// replica stopped serving meanwhile (drained or killed: a scale 4 → 8 → 4 within seconds), the
// forward must not vanish (the caller would wait out its timeout): it comes back as "no
// responders" and the call runs where the session can be acquired, with its state. Replicas run
// without a controller here, so no membership view tells them the other one is gone: only the
// forward's receipt does.
describe("session forwards to a replica that stopped serving", () => {
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

  const pair = async (
    mode: SessionStateMode,
    maxOngoingRequests?: number,
  ): Promise<[ReplicaFixture, ReplicaFixture]> => {
    const replicas = await startSessionPair(nats.url, nc, `forward${++n}`, {
      sessionState: { mode, handoffTimeoutS: 5 },
      ...(maxOngoingRequests === undefined ? {} : { maxOngoingRequests }),
    });
    started.push(...replicas);
    return replicas;
  };
  // Well under the time a dropped forward would cost: the caller's timeout is what failed before.
  const append = async (r: ReplicaFixture, session: string, k: number): Promise<any> =>
    ok(await call(nc, r.requestSubject, "append", [k], { sessionId: session, timeoutMs: 4000 }));

  it("runs a late call at the old owner, with its state, when the session's new owner drained since", async () => {
    const [a, b] = await pair("memory");
    await append(a, "f1", 1);
    await append(a, "f1", 2);
    expect(await append(b, "f1", 3)).toMatchObject({ seen: [1, 2], replica: b.spec.replicaId });
    // b drains: it parks f1 (memory mode included) and exits; a still remembers f1 went to b.
    await b.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(await append(a, "f1", 4)).toMatchObject({
      seen: [1, 2, 3],
      origin: "restored",
      replica: a.spec.replicaId,
    });
    expect(await append(a, "f1", 5)).toMatchObject({ seen: [1, 2, 3, 4], replica: a.spec.replicaId });
  });

  it("runs a late call at the old owner from the stored state when the new owner was SIGKILLed (durable)", async () => {
    const [a, b] = await pair("durable");
    await append(a, "f2", 1);
    expect(await append(b, "f2", 2)).toMatchObject({ seen: [1], replica: b.spec.replicaId });
    await b.kill("SIGKILL");
    expect(await append(a, "f2", 3)).toMatchObject({
      seen: [1, 2],
      origin: "restored",
      replica: a.spec.replicaId,
    });
  });

  it("still answers forwarded calls from the owner (the caller's reply subject travels in a header)", async () => {
    const [a, b] = await pair("memory");
    await append(a, "f3", 1);
    await append(b, "f3", 2);
    // a forwards to b; b answers the caller directly, every time.
    for (let k = 3; k <= 6; k++)
      expect(await append(a, "f3", k)).toMatchObject({
        replica: b.spec.replicaId,
        seen: [1, 2, 3, 4, 5, 6].slice(0, k - 1),
      });
  });

  // A move sends many forwards to one new owner at once; its callers counted each of them against
  // the replica they sent it to, so refusing them for the new owner's limit would bounce them back
  // to callers that route them here again (and take this replica for full meanwhile).
  it("runs a call that followed its moved session at an owner that is at maxOngoingRequests; a direct call there is refused", async () => {
    const [a, b] = await pair("memory", 1);
    await append(a, "f4", 1);
    expect(await append(b, "f4", 2)).toMatchObject({ seen: [1], replica: b.spec.replicaId });
    // b's one slot is taken by a slow call of another session.
    const slow = call(nc, b.requestSubject, "append", [1, 1500], { sessionId: "g4", timeoutMs: 4000 });
    await new Promise((r) => setTimeout(r, 300));
    const direct = await call(nc, b.requestSubject, "append", [1], { sessionId: "h4", timeoutMs: 4000 });
    expect(direct.kind).toBe(ReplyKind.REJECTED);
    // a forwards f4's call to b, its owner: run there although b is full.
    expect(await append(a, "f4", 3)).toMatchObject({ seen: [1, 2], replica: b.spec.replicaId });
    expect(okValue(await slow)).toMatchObject({ seen: [], replica: b.spec.replicaId });
  });
});
