import type { DeploymentHandle } from "@tsserve/handle";
import { isTsserveError } from "@tsserve/protocol";

/** Options of {@link startTraffic}. */
export interface TrafficOptions {
  /** Concurrent sessions, each a sequential loop with its own session id. @default 20 */
  sessions?: number;
  /** Per-call deadline given to the handle. @default 5000 */
  timeoutMs?: number;
  /** A call still unsettled this long after its deadline counts as hung (a bug). @default 2000 */
  hangSlackMs?: number;
  /** Pause between two calls of one session. @default 50 */
  pauseMs?: number;
  /** Hard bound on calls per session, so a loop can never run away. @default 100000 */
  maxCallsPerSession?: number;
  /** Session id prefix. @default "s" */
  sessionPrefix?: string;
  /** Method to call (the target's `echo` is declared idempotent by the chaos run). @default "__call__" */
  method?: string;
}

/** Where every request ended. `ok + sum(typed) + untyped + hung === sent` once stopped. */
export interface TrafficReport {
  sent: number;
  ok: number;
  /** Typed tsserve errors, by code. */
  typed: Record<string, number>;
  /** Errors that are not tsserve errors (a bug: every failure must be typed). */
  untyped: number;
  /** Calls that did not settle within timeout + slack (a bug: nothing may hang). */
  hung: number;
  /** Calls sent but not settled when the report was taken (0 after `stop()`). */
  inFlight: number;
  /** Sent − settled − in flight: must be 0. */
  unaccounted: number;
  /** Up to 20 example messages of untyped errors and hangs. */
  examples: string[];
  /** Longest call that settled, in ms. */
  maxLatencyMs: number;
  /** For each session, the replica that answered its last successful call. */
  lastReplica: Map<string, string>;
  /** Successful calls per replica id. */
  perReplica: Map<string, number>;
}

/** A running traffic generator. */
export interface Traffic {
  /** A consistent snapshot of the counts so far. */
  report(): TrafficReport;
  /** Stops every session loop, waits for the calls in flight, returns the final report. */
  stop(): Promise<TrafficReport>;
}

/** The fixture's reply: which replica answered and what it was sent. */
interface EchoReply {
  replica: string;
  input: unknown;
}

/**
 * Steady session traffic that accounts every request: it succeeded, failed with a typed error
 * (counted by code), failed with something untyped, or hung past its deadline. A watchdog per call
 * turns a hang into a counted outcome instead of a stuck test.
 */
export function startTraffic(handle: DeploymentHandle<unknown>, options: TrafficOptions = {}): Traffic {
  const sessions = options.sessions ?? 20;
  const timeoutMs = options.timeoutMs ?? 5000;
  const hangSlackMs = options.hangSlackMs ?? 2000;
  const pauseMs = options.pauseMs ?? 50;
  const maxCalls = options.maxCallsPerSession ?? 100_000;
  const prefix = options.sessionPrefix ?? "s";
  const method = options.method ?? "__call__";
  const r: TrafficReport = {
    sent: 0,
    ok: 0,
    typed: {},
    untyped: 0,
    hung: 0,
    inFlight: 0,
    unaccounted: 0,
    examples: [],
    maxLatencyMs: 0,
    lastReplica: new Map(),
    perReplica: new Map(),
  };
  let running = true;
  const example = (line: string): void => {
    if (r.examples.length < 20) r.examples.push(line);
  };

  const one = async (sessionId: string, n: number): Promise<void> => {
    r.sent++;
    r.inFlight++;
    const started = Date.now();
    let watchdog: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((resolve) => {
      watchdog = setTimeout(() => resolve("hung"), timeoutMs + hangSlackMs);
    });
    const call = handle
      .options({ sessionId, timeoutMs, method })
      .remote({ sessionId, n })
      .then(
        (v) => ({ ok: true as const, v: v as EchoReply }),
        (e: unknown) => ({ ok: false as const, e }),
      );
    const outcome = await Promise.race([call, hung]);
    clearTimeout(watchdog);
    r.inFlight--;
    const elapsed = Date.now() - started;
    if (outcome === "hung") {
      r.hung++;
      example(`hung: session ${sessionId} call ${n} unsettled after ${elapsed} ms`);
      return;
    }
    r.maxLatencyMs = Math.max(r.maxLatencyMs, elapsed);
    if (outcome.ok) {
      r.ok++;
      const replica = String(outcome.v?.replica);
      r.lastReplica.set(sessionId, replica);
      r.perReplica.set(replica, (r.perReplica.get(replica) ?? 0) + 1);
    } else if (isTsserveError(outcome.e)) {
      r.typed[outcome.e.code] = (r.typed[outcome.e.code] ?? 0) + 1;
    } else {
      r.untyped++;
      const e = outcome.e as Error;
      example(`untyped: ${e?.name}: ${e?.message}`);
    }
  };

  const loop = async (i: number): Promise<void> => {
    const sessionId = `${prefix}${i}`;
    // Spread the sessions' first calls so 200 sessions do not start in one burst.
    await sleep(Math.random() * Math.max(pauseMs, 10));
    for (let n = 0; running && n < maxCalls; n++) {
      await one(sessionId, n);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const loops = Array.from({ length: sessions }, (_, i) => loop(i));

  const snapshot = (): TrafficReport => {
    const typed = Object.values(r.typed).reduce((a, b) => a + b, 0);
    return {
      ...r,
      typed: { ...r.typed },
      examples: [...r.examples],
      lastReplica: new Map(r.lastReplica),
      perReplica: new Map(r.perReplica),
      unaccounted: r.sent - r.ok - typed - r.untyped - r.hung - r.inFlight,
    };
  };
  return {
    report: snapshot,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return snapshot();
    },
  };
}

/** Total typed failures of a report. */
export function typedFailures(r: TrafficReport): number {
  return Object.values(r.typed).reduce((a, b) => a + b, 0);
}

/** One line summarising a report. */
export function formatTraffic(r: TrafficReport): string {
  const typed = Object.entries(r.typed)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return (
    `sent=${r.sent} ok=${r.ok} typed{${typed}} untyped=${r.untyped} hung=${r.hung} ` +
    `inFlight=${r.inFlight} unaccounted=${r.unaccounted} maxLatencyMs=${r.maxLatencyMs}`
  );
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
