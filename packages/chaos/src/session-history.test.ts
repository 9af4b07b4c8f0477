import { describe, expect, it } from "vitest";
import { checkSessionHistory, type CallOutcome, type CallRecord } from "./session-history.js";

/** A well-behaved session: calls 1..n, 10 ms apart, each seeing every earlier seq. */
function history(session: string, n: number, replicaOf: (i: number) => string = () => "r1"): CallRecord[] {
  const out: CallRecord[] = [];
  for (let i = 1; i <= n; i++) {
    out.push({
      session,
      seq: i,
      replica: replicaOf(i),
      start: i * 10,
      end: i * 10 + 5,
      saw: Array.from({ length: i - 1 }, (_, k) => k + 1),
      lost: false,
    });
  }
  return out;
}

const answered = (records: CallRecord[]): CallOutcome[] =>
  records.map((r) => ({ session: r.session, seq: r.seq, reply: r }));

describe("checkSessionHistory", () => {
  it("passes a correct history with a move and counts the move", () => {
    const calls = history("a", 6, (i) => (i <= 3 ? "r1" : "r2"));
    const r = checkSessionHistory([...answered(calls), ...answered(history("b", 4))], calls);
    expect(r.violations).toEqual([]);
    expect(r.acked).toBe(10);
    expect(r.movedSessions).toBe(1);
    expect(r.moves).toBe(1);
  });

  it("detects a lost acknowledged update", () => {
    const calls = history("a", 5, (i) => (i <= 3 ? "r1" : "r2"));
    // After the move, seq 3 (acknowledged) is missing.
    calls[3]!.saw = [1, 2];
    calls[4]!.saw = [1, 2, 4];
    const r = checkSessionHistory(answered(calls), []);
    expect(r.counts["lost-update"]).toBe(2);
    expect(r.violations[0]!.detail).toContain("misses acknowledged 3");
  });

  it("detects an empty read of a moved session", () => {
    const calls = history("a", 4, (i) => (i <= 2 ? "r1" : "r2"));
    calls[2]!.saw = [];
    calls[3]!.saw = [3];
    const r = checkSessionHistory(answered(calls), []);
    expect(r.counts["empty-read"]).toBe(1);
    expect(r.counts["lost-update"]).toBe(1);
  });

  it("does not blame a failed call's update, but does blame a view that goes backwards", () => {
    const calls = history("a", 4);
    // seq 2 failed at the caller, yet ran: seq 3 saw it, seq 4 does not (state went backwards).
    calls[3]!.saw = [1, 3];
    const outcomes = answered(calls);
    outcomes[1] = { session: "a", seq: 2, error: "REPLICA_DIED" };
    const r = checkSessionHistory(outcomes, [calls[1]!]);
    expect(r.counts["lost-update"]).toBe(0);
    expect(r.counts["stale-read"]).toBe(1);
    expect(r.failed).toEqual({ REPLICA_DIED: 1 });
  });

  it("passes when a failed call's update is absent from every later view", () => {
    const calls = history("a", 4);
    calls[2]!.saw = [1];
    calls[3]!.saw = [1, 3];
    const outcomes = answered(calls);
    outcomes[1] = { session: "a", seq: 2, error: "TIMEOUT" };
    expect(checkSessionHistory(outcomes, []).violations).toEqual([]);
  });

  it("detects seqs nobody sent", () => {
    const calls = history("a", 3);
    calls[2]!.saw = [1, 2, 99];
    expect(checkSessionHistory(answered(calls), []).counts["stale-read"]).toBe(1);
  });

  it("detects two replicas running calls of one session at once, from the replicas' records", () => {
    const calls = history("a", 3, (i) => (i === 3 ? "r2" : "r1"));
    // An unanswered run of seq 4 on the old owner r1 while r2 runs seq 3.
    const ghost: CallRecord = { ...calls[2]!, seq: 4, replica: "r1", start: 31, end: 33 };
    const r = checkSessionHistory(answered(calls), [...calls, ghost]);
    expect(r.counts.overlap).toBe(1);
    expect(r.counts.concurrent).toBe(0);
    expect(r.violations[0]!.detail).toContain("on r2 and r1");
  });

  it("detects two calls of one session running at once on one replica, and not touching ones", () => {
    const calls = history("a", 3);
    calls[2]!.start = 24; // overlaps seq 2's [20, 25]
    calls[0]!.end = 20; // seq 1 ends exactly when seq 2 starts: not an overlap
    const r = checkSessionHistory(answered(calls), calls);
    expect(r.counts.concurrent).toBe(1);
    expect(r.counts.overlap).toBe(0);
  });

  it("flags a loss as unexpected unless allowed for the previous owner, and then checks from there", () => {
    const calls = history("a", 5, (i) => (i <= 2 ? "dead" : "r2"));
    calls[2]!.lost = true;
    calls[2]!.saw = [];
    calls[3]!.saw = [3];
    calls[4]!.saw = [3, 4];
    // The replica keeps saying "lost" until the session moves: one loss, not three.
    calls[3]!.lost = true;
    calls[4]!.lost = true;
    expect(checkSessionHistory(answered(calls), []).counts["unexpected-loss"]).toBe(1);
    const allowed = checkSessionHistory(answered(calls), [], { lossAllowed: (_s, prev) => prev === "dead" });
    expect(allowed.violations).toEqual([]);
    expect([...allowed.lostSessions]).toEqual([["a", "dead"]]);
    // A loss nobody was told about is an empty read, allowed or not.
    for (const c of calls) c.lost = false;
    const silent = checkSessionHistory(answered(calls), [], { lossAllowed: () => true });
    expect(silent.counts["empty-read"]).toBe(1);
  });

  it("after an allowed loss, still detects a lost update of a call acknowledged after it", () => {
    const calls = history("a", 5, (i) => (i <= 2 ? "dead" : "r2"));
    calls[2]!.lost = true;
    calls[2]!.saw = [];
    calls[3]!.saw = [3];
    calls[4]!.saw = [3]; // misses 4
    calls[3]!.lost = true;
    calls[4]!.lost = true; // still "lost" on r2: not a new loss that would excuse seq 4
    const r = checkSessionHistory(answered(calls), [], { lossAllowed: () => true });
    expect(r.counts["lost-update"]).toBe(1);
  });
});
