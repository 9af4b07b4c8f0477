// A driver process of the session-history checker: one handle client of its own (its own view of
// the membership), sequential call loops for the sessions it was given, every outcome kept. Started
// by session-drivers.ts with an IPC channel: it reports progress, and on "stop" writes its outcomes
// to its file and exits.
import { writeFileSync } from "node:fs";
import { connect } from "@tsserve/handle";
import { isTsserveError } from "@tsserve/protocol";
import type { CallOutcome, CallRecord } from "./session-history.js";
import type { DriverConfig, DriverMessage } from "./session-drivers.js";

const config = JSON.parse(process.env["SESSION_DRIVER_CONFIG"] ?? "{}") as DriverConfig;
const outcomes: CallOutcome[] = [];
let running = true;
let acked = 0;
const send = (m: DriverMessage): void => void process.send?.(m);

const client = await connect({
  address: config.address,
  prefix: config.prefix,
  natsOptions: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
});
const handle = client.getDeploymentHandle<unknown>(config.deployment, { app: config.app });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const loop = async (session: string): Promise<void> => {
  // Spread the first calls: 300 sessions must not start in one burst.
  await sleep(Math.random() * config.pauseMs);
  for (let n = 0; running && n < config.maxCallsPerSession; n++) {
    // Unique per session across drivers: driver i sends i, i + drivers, i + 2 drivers, …
    const seq = config.seqBase + n * config.drivers + config.index + 1;
    const sentAt = performance.timeOrigin + performance.now();
    let watchdog: NodeJS.Timeout | undefined;
    const hung = new Promise<CallOutcome>((resolve) => {
      watchdog = setTimeout(() => resolve({ session, seq, sentAt, error: "HUNG" }), config.timeoutMs + 2000);
    });
    const call = handle
      .options({ sessionId: session, method: "append", timeoutMs: config.timeoutMs })
      .remote(seq, config.holdMs)
      .then(
        (v): CallOutcome => ({ session, seq, sentAt, reply: v as CallRecord }),
        (e: unknown): CallOutcome => ({
          session,
          seq,
          sentAt,
          error: isTsserveError(e) ? e.code : `UNTYPED ${(e as Error)?.message ?? String(e)}`.slice(0, 120),
        }),
      );
    const outcome = await Promise.race([call, hung]);
    clearTimeout(watchdog);
    outcomes.push(outcome);
    if (outcome.reply && acked++ === 0) firstAck();
    await sleep(config.pauseMs);
  }
};

const loops = config.sessions.map((s) => loop(s));
const progress = setInterval(() => send({ type: "progress", sent: outcomes.length, acked }), 500);
send({ type: "ready" });

let stopping: Promise<void> | undefined;
const stop = (): Promise<void> =>
  (stopping ??= (async () => {
    running = false;
    await Promise.all(loops);
    clearInterval(progress);
    writeFileSync(config.outFile, outcomes.map((o) => JSON.stringify(o)).join("\n"));
    await client.close();
    send({ type: "done", sent: outcomes.length, acked });
    process.disconnect?.();
  })());
process.on("message", (m: unknown) => {
  if ((m as { type?: string })?.type === "stop") void stop();
});
// Without an IPC channel (a driver inside a network namespace), the run ends runMs after its first
// acknowledged call, which it announces in readyFile: a loaded machine may take seconds to start it.
function firstAck(): void {
  if (config.readyFile !== undefined) writeFileSync(config.readyFile, "ready\n");
  if (config.runMs !== undefined) setTimeout(() => void stop(), config.runMs).unref();
}
// The parent's hard bound: a driver never outlives its run.
setTimeout(() => process.exit(3), config.maxRunMs).unref();
