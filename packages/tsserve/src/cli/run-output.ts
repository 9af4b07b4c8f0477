import type { Target } from "../head/target.js";
import { followLogs, formatLogLine, logsConnection } from "../ops/logs.js";

/**
 * `tsserve run` prints every replica's output live, each line prefixed with its application and
 * replica id (the agents publish what they write to the replica log files). Returns a closer.
 */
export async function streamReplicaOutput(target: Target): Promise<() => Promise<void>> {
  const nc = await logsConnection(target);
  await followLogs(nc, target.prefix, {}, (l) => {
    const text = formatLogLine(l, false);
    if (l.stream === "stderr") process.stderr.write(`${text}\n`);
    else process.stdout.write(`${text}\n`);
  });
  return async () => {
    if (!nc.isClosed()) await nc.close();
  };
}
