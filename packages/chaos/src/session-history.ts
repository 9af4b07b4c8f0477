/**
 * The per-session history checker of issue 19. Each call of the `SessionTarget` fixture appends its
 * sequence number to its session's state and answers what it saw, the replica that ran it and when
 * (`performance.timeOrigin + performance.now()`: one clock for every process on this machine,
 * network namespaces included). Replicas also record every call they ran, answered or not.
 *
 * From the acknowledged calls and the replicas' records this checks, per session:
 * - **lost-update**: an acknowledged seq missing from a call that started after it ended;
 * - **empty-read**: a call that saw nothing although an earlier call was acknowledged;
 * - **stale-read**: a call whose view is not an extension of the view an earlier call left behind
 *   (it went backwards or lost its order), or holds a seq nobody sent;
 * - **overlap**: two replicas running calls of one session at the same moment;
 * - **concurrent**: two calls of one session running at once on one replica (calls of a session
 *   run one at a time);
 * - **unexpected-loss**: a call told its state was lost in a crash when the loss is not allowed
 *   (durable mode, or a session whose owner did not die).
 */

/** What a replica records of one call it ran (the fixture's answer carries the same fields). */
export interface CallRecord {
  session: string;
  seq: number;
  replica: string;
  /** When user code started and ended, in ms on the shared clock. */
  start: number;
  end: number;
  /** The session's state (the seqs appended so far) as the call found it. */
  saw: number[];
  /**
   * Whether the call was told its session's state was lost in a crash (`getSessionState().lost`:
   * true for every call of the session on that replica until it moves).
   */
  lost: boolean;
}

/** What a driver knows of one call it sent. */
export interface CallOutcome {
  session: string;
  seq: number;
  /** The fixture's answer when the call succeeded; absent when it failed. */
  reply?: CallRecord;
  /** The typed error code when it failed. */
  error?: string;
  /** When it was sent, on the fixture's clock (performance.timeOrigin + performance.now()). */
  sentAt?: number;
}

/** Violation kinds, see the module comment. */
export type ViolationKind =
  "lost-update" | "empty-read" | "stale-read" | "overlap" | "concurrent" | "unexpected-loss";

/** One violation, with enough detail to find it in the logs. */
export interface Violation {
  kind: ViolationKind;
  session: string;
  detail: string;
}

/** Options of {@link checkSessionHistory}. */
export interface CheckOptions {
  /**
   * Whether a call flagged `lost` is allowed, given the replica that ran the session's last
   * acknowledged call before it (undefined: none). Memory mode after a crash: the dead replicas.
   * @default never (durable mode, planned changes)
   */
  lossAllowed?: (session: string, previousReplica: string | undefined) => boolean;
}

/** What the checker found. */
export interface HistoryReport {
  sessions: number;
  sent: number;
  acked: number;
  /** Failed calls by error code. */
  failed: Record<string, number>;
  /** Calls the replicas recorded (answered or not). */
  ran: number;
  /** Sessions whose acknowledged calls ran on more than one replica. */
  movedSessions: number;
  /** Moves: consecutive acknowledged calls of a session on different replicas. */
  moves: number;
  /** Sessions with an allowed loss (memory mode after a crash), and their previous owners. */
  lostSessions: Map<string, string | undefined>;
  violations: Violation[];
  /** Violations per kind (every kind listed, 0 when none). */
  counts: Record<ViolationKind, number>;
}

const KINDS: ViolationKind[] = [
  "lost-update",
  "empty-read",
  "stale-read",
  "overlap",
  "concurrent",
  "unexpected-loss",
];

/** Checks a history: the drivers' outcomes and the replicas' records (see the module comment). */
export function checkSessionHistory(
  outcomes: readonly CallOutcome[],
  records: readonly CallRecord[],
  options: CheckOptions = {},
): HistoryReport {
  const lossAllowed = options.lossAllowed ?? (() => false);
  const report: HistoryReport = {
    sessions: 0,
    sent: outcomes.length,
    acked: 0,
    failed: {},
    ran: records.length,
    movedSessions: 0,
    moves: 0,
    lostSessions: new Map(),
    violations: [],
    counts: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>,
  };
  const add = (kind: ViolationKind, session: string, detail: string): void => {
    report.counts[kind]++;
    // Keep the report readable: the counts say how many, a few examples say what.
    if (report.violations.filter((v) => v.kind === kind).length < 20)
      report.violations.push({ kind, session, detail });
  };
  const acked = groupBy(
    outcomes.flatMap((o) => (o.reply ? [o.reply] : [])),
    (r) => r.session,
  );
  for (const o of outcomes) {
    if (o.reply) report.acked++;
    else report.failed[o.error ?? "UNKNOWN"] = (report.failed[o.error ?? "UNKNOWN"] ?? 0) + 1;
  }
  const sent = groupBy(outcomes, (o) => o.session);
  // Every run of a call, from the replicas' records and from the answers (one clock, so an
  // answered call's own record and its answer are the same interval).
  const runs = groupBy(dedupe([...records, ...acked.values()].flat()), (r) => r.session);
  const sessions = new Set([...sent.keys(), ...runs.keys()]);
  report.sessions = sessions.size;
  for (const session of sessions) {
    const calls = acked.get(session) ?? [];
    const seqs = new Set((sent.get(session) ?? []).map((o) => o.seq));
    checkReads(session, calls, seqs, lossAllowed, report, add);
    checkOverlaps(session, runs.get(session) ?? [], add);
  }
  return report;
}

/** The read checks of one session's acknowledged calls. */
function checkReads(
  session: string,
  calls: CallRecord[],
  sentSeqs: Set<number>,
  lossAllowed: (session: string, previous: string | undefined) => boolean,
  report: HistoryReport,
  add: (kind: ViolationKind, session: string, detail: string) => void,
): void {
  const byStart = [...calls].sort((a, b) => a.start - b.start);
  const byEnd = [...calls].sort((a, b) => a.end - b.end);
  // Calls that ended at or before this time are excused by a later allowed loss.
  let lossAt = -Infinity;
  const replicas = new Set<string>();
  for (const b of byStart) {
    // The acknowledged calls that ended before b started: each must be in b's view.
    const before = byEnd.filter((a) => a.end < b.start && a.end > lossAt);
    const last = before.at(-1);
    const prevOwner = byEnd.filter((a) => a.end < b.start).at(-1)?.replica;
    // A replica keeps telling every call of a session it took over empty after a crash that the
    // state was lost, until the session moves: only the first such call (the session arrived
    // here) is the loss; the later ones are checked as usual.
    if (b.lost && prevOwner !== b.replica) {
      if (lossAllowed(session, prevOwner)) {
        report.lostSessions.set(session, prevOwner);
        lossAt = b.start;
      } else {
        add(
          "unexpected-loss",
          session,
          `seq ${b.seq} on ${b.replica} was told its state was lost (previous owner ${prevOwner ?? "none"})`,
        );
      }
    }
    const live = b.lost && lossAt === b.start ? [] : before;
    const view = new Set(b.saw);
    const missing = live.filter((a) => !view.has(a.seq)).map((a) => a.seq);
    const phantom = b.saw.filter((s) => !sentSeqs.has(s));
    const lastLive = live.at(-1);
    if (missing.length > 0 && b.saw.length === 0) {
      add(
        "empty-read",
        session,
        `seq ${b.seq} on ${b.replica} saw nothing; acknowledged before it: ${missing.slice(-5).join(",")}`,
      );
    } else if (missing.length > 0) {
      add(
        "lost-update",
        session,
        `seq ${b.seq} on ${b.replica} misses acknowledged ${missing.slice(-5).join(",")}`,
      );
    } else if (phantom.length > 0) {
      add(
        "stale-read",
        session,
        `seq ${b.seq} on ${b.replica} saw seqs never sent: ${phantom.slice(0, 5).join(",")}`,
      );
    } else if (lastLive && !isPrefix([...lastLive.saw, lastLive.seq], b.saw)) {
      add(
        "stale-read",
        session,
        `seq ${b.seq} on ${b.replica} saw [${tail(b.saw)}], not an extension of [${tail([...lastLive.saw, lastLive.seq])}] left by ${lastLive.replica}`,
      );
    }
    if (last && last.replica !== b.replica) report.moves++;
    replicas.add(b.replica);
  }
  if (replicas.size > 1) report.movedSessions++;
}

/** Two runs of one session at once: on two replicas an overlap, on one a concurrent run. */
function checkOverlaps(
  session: string,
  runs: CallRecord[],
  add: (kind: ViolationKind, session: string, detail: string) => void,
): void {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  // The run that ends last so far on each replica.
  const latest = new Map<string, CallRecord>();
  for (const r of sorted) {
    for (const [replica, other] of latest) {
      if (other.end <= r.start) continue;
      const what = `seq ${other.seq} [${other.start.toFixed(1)}, ${other.end.toFixed(1)}] and seq ${r.seq} [${r.start.toFixed(1)}, ${r.end.toFixed(1)}]`;
      if (replica === r.replica) add("concurrent", session, `${what} both on ${replica}`);
      else add("overlap", session, `${what} on ${replica} and ${r.replica}`);
    }
    const mine = latest.get(r.replica);
    if (!mine || mine.end < r.end) latest.set(r.replica, r);
  }
}

/** One record per (session, seq, replica, start): an answered call appears in both sources. */
function dedupe(records: CallRecord[]): CallRecord[] {
  const seen = new Map<string, CallRecord>();
  for (const r of records) seen.set(`${r.session}\u0000${r.seq}\u0000${r.replica}\u0000${r.start}`, r);
  return [...seen.values()];
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function isPrefix(prefix: readonly number[], of: readonly number[]): boolean {
  if (prefix.length > of.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}

const tail = (xs: readonly number[]): string =>
  xs.length > 4 ? `…,${xs.slice(-4).join(",")}` : xs.join(",");

/** One line per report: the numbers a test prints. */
export function formatHistory(r: HistoryReport): string {
  const failed = Object.entries(r.failed)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const counts = KINDS.map((k) => `${k}=${r.counts[k]}`).join(" ");
  return (
    `sessions=${r.sessions} sent=${r.sent} acked=${r.acked} failed{${failed}} ran=${r.ran} ` +
    `moved=${r.movedSessions} moves=${r.moves} lost=${r.lostSessions.size} | ${counts}`
  );
}

/** Total violations of a report. */
export function violationCount(r: HistoryReport): number {
  return KINDS.reduce((n, k) => n + r.counts[k], 0);
}
