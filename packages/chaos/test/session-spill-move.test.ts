// Issue 19, item 3, the other choice: `sessionState.spill: "move"`. A call spilled to a replica
// that does not own its session (its owner is full of another session's call) takes the session
// over there: the owner hands it off at once (it is running none of that session's calls), the
// call runs on the fallback with the session's state while the owner is still busy, and the
// session's next call finds that state wherever it runs. Never two replicas at once.
import { describe, expect, it } from "vitest";
import { readReplicaRecords } from "../src/session-cluster.js";
import { checkSessionHistory, type CallOutcome, type CallRecord } from "../src/session-history.js";
import { startSpillCluster } from "../src/spill-cluster.js";

const APP = "spillmove";

describe('session state: spill "move"', () => {
  it("runs a spilled call on the fallback with its session's state while the owner is busy with another session", async () => {
    await using spill = await startSpillCluster(APP, "move");
    const { handle, records } = spill;
    const outcomes: CallOutcome[] = [];
    const append = async (session: string, seq: number, holdMs: number): Promise<CallRecord> => {
      const reply = (await handle
        .options({ sessionId: session, method: "append", timeoutMs: 15_000 })
        .remote(seq, holdMs)) as CallRecord;
      outcomes.push({ session, seq, reply });
      return reply;
    };
    // A busy session and three quiet ones on the same owner (the first call of each says where).
    const owners = new Map<string, string>();
    for (let i = 0; owners.size < 40; i++) owners.set(`s${i}`, (await append(`s${i}`, 1, 0)).replica);
    const [busy, owner] = [...owners][0]!;
    const quiet = [...owners].filter(([s, r]) => r === owner && s !== busy).map(([s]) => s);
    expect(quiet.length).toBeGreaterThanOrEqual(3);
    let busySeq = 1;
    for (const session of quiet.slice(0, 3)) {
      // The owner's only slot is held for 600 ms by the busy session; the quiet call spills after 20 ms.
      const held = append(busy, ++busySeq, 600);
      await new Promise((r) => setTimeout(r, 100));
      const moved = await append(session, 2, 0);
      const ahead = await held;
      expect(ahead.replica).toBe(owner);
      expect(moved.replica).not.toBe(owner);
      expect(moved).toMatchObject({ saw: [1], lost: false });
      // It ran while the owner was still busy: it did not wait for the owner's slot.
      expect(moved.end).toBeLessThan(ahead.end);
      // The session's next call finds the state the moved call set, wherever it runs now.
      expect(await append(session, 3, 0)).toMatchObject({ saw: [1, 2], lost: false });
    }
    // Every session's calls, as the replicas recorded them: no lost update, no stale or empty
    // read, never two replicas at once.
    const report = checkSessionHistory(outcomes, readReplicaRecords(records));
    expect(report.violations).toEqual([]);
    expect(report.acked).toBe(outcomes.length);
  }, 120_000);
});
