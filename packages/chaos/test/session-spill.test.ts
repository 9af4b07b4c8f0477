// Issue 19, item 3: spilling under back-pressure (ConsistentHash `spillAfterMs`) never runs a
// stateful session's call without its state. The handle spills a call whose owner is full to a
// fallback replica after `spillAfterMs`; the fallback does not run it but forwards it to the owner
// (docs/design.md §9 "Spilling"), so it waits for the owner: it runs there, after the call ahead of
// it, and sees that call's update. The forwards are observed on the wire (`sfwd.…`).
import { describe, expect, it } from "vitest";
import { sessionForwardSubject } from "@tsserve/protocol/internal";
import { SESSION_TARGET, readReplicaRecords } from "../src/session-cluster.js";
import type { CallRecord } from "../src/session-history.js";
import { startSpillCluster } from "../src/spill-cluster.js";

const APP = "spill";

describe("session state: spilling under back-pressure", () => {
  it("forwards a spilled call to the session's owner, where it runs after the call ahead, with its state", async () => {
    await using spill = await startSpillCluster(APP, "wait");
    const { cc, handle, records } = spill;
    const forwards: string[] = [];
    // Every replica's forward subject (the last token is the replica id).
    const anyReplica = sessionForwardSubject(APP, APP, SESSION_TARGET, "x").replace(/\.x$/, ".*");
    const sub = cc.client.nc.subscribe(anyReplica, {
      callback: (_e, m) => forwards.push(m.subject.slice(m.subject.lastIndexOf(".") + 1)),
    });
    const append = async (session: string, seq: number, holdMs: number): Promise<CallRecord> =>
      (await handle
        .options({ sessionId: session, method: "append", timeoutMs: 15_000 })
        .remote(seq, holdMs)) as CallRecord;
    for (let round = 0; round < 5; round++) {
      const session = `spilled-${round}`;
      const first = await append(session, 1, 0);
      // The owner's only slot is held for 600 ms; the next call spills after 20 ms.
      const held = append(session, 2, 600);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      const spilled = await append(session, 3, 0);
      const waited = performance.now() - t0;
      const ahead = await held;
      expect(ahead.replica).toBe(first.replica);
      expect(spilled).toMatchObject({ replica: first.replica, saw: [1, 2], lost: false });
      // It waited for the owner's call ahead of it (which had ~500 ms left), not a detour.
      expect(waited).toBeGreaterThan(300);
    }
    sub.unsubscribe();
    // The calls did spill: fallbacks forwarded them to the owners (and only there).
    expect(forwards.length).toBeGreaterThanOrEqual(5);
    // No call of these sessions ever ran anywhere but on its owner.
    const bySession = new Map<string, Set<string>>();
    for (const r of readReplicaRecords(records))
      bySession.set(r.session, (bySession.get(r.session) ?? new Set()).add(r.replica));
    for (const [s, where] of bySession) expect([s, where.size]).toEqual([s, 1]);
  }, 120_000);
});
