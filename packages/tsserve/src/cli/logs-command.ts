import type { LogLine } from "@tsserve/protocol/internal";
import { resolveTarget, type TargetFlags } from "../head/target.js";
import { followLogs, formatLogLine, logsConnection, parseDuration, queryLogs } from "../ops/logs.js";

/** Flags of `tsserve logs`. */
export interface LogsFlags extends TargetFlags {
  replica?: string;
  follow?: boolean;
  since?: string;
  tail: number;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * `tsserve logs [app [deployment]] [--replica id] [-f] [--since 5m] [--tail n]`: the tail of the
 * matching replicas' output from every agent's log files, then (with -f) live lines until Ctrl-C.
 */
export async function logsCommand(
  app: string | undefined,
  deployment: string | undefined,
  flags: LogsFlags,
): Promise<void> {
  const target = resolveTarget(flags);
  const nc = await logsConnection(target);
  try {
    const filter = {
      ...(app === undefined ? {} : { app }),
      ...(deployment === undefined ? {} : { deployment }),
      ...(flags.replica === undefined ? {} : { replicaId: flags.replica }),
    };
    // Subscribe before asking for the tail, so -f misses nothing between the two.
    const live: LogLine[] = [];
    let lastTailTs = -Infinity;
    let printing = false;
    const ac = new AbortController();
    if (flags.follow) {
      await followLogs(
        nc,
        target.prefix,
        filter,
        (l) => {
          if (!printing) live.push(l);
          else if (l.ts >= lastTailTs) out(formatLogLine(l));
        },
        ac.signal,
      );
    }
    const lines = await queryLogs(nc, target.prefix, {
      ...filter,
      limit: flags.tail,
      ...(flags.since === undefined ? {} : { sinceMs: Date.now() - parseDuration(flags.since) }),
    });
    for (const l of lines) out(formatLogLine(l));
    if (!flags.follow) return;
    const seen = new Set(lines.map((l) => `${l.replicaId}|${l.ts}|${l.line}`));
    lastTailTs = lines.at(-1)?.ts ?? -Infinity;
    for (const l of live) if (!seen.has(`${l.replicaId}|${l.ts}|${l.line}`)) out(formatLogLine(l));
    printing = true;
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
      void nc.closed().then(() => resolve());
    });
    ac.abort();
  } finally {
    await nc.close();
  }
}
