import type { HeadRecord } from "../head/state-dir.js";

/** The ports a user asked `start`/`run` for (0 = any free one). */
export interface AskedPorts {
  natsPort: number;
  /** null when the dashboard is off. */
  dashboardPort: number | null;
}

function portOf(url: string | null | undefined): number | undefined {
  if (url === null || url === undefined) return undefined;
  try {
    const u = new URL(url.split(",")[0]!.trim());
    return u.port === "" ? undefined : Number(u.port);
  } catch {
    return undefined;
  }
}

/**
 * One line per port the head moved because the asked one was taken (NATS, dashboard): a silent
 * move would leave a user, or a client that guesses nats://127.0.0.1:4222, talking to whatever
 * else listens there. Clients and commands find the real address in the state directory.
 */
export function movedPortLines(asked: AskedPorts, rec: HeadRecord, addressFile: string): string[] {
  const lines: string[] = [];
  const nats = portOf(rec.address);
  // Only the embedded nats-server moves; an --address cluster is used as given.
  if (rec.natsPid !== null && asked.natsPort !== 0 && nats !== undefined && nats !== asked.natsPort) {
    lines.push(
      `  note          NATS port ${asked.natsPort} is taken, so NATS listens on ${nats}: ` +
        `commands and connect() from this folder find it in ${addressFile}`,
    );
  }
  const dash = portOf(rec.dashboardUrl);
  if (
    asked.dashboardPort !== null &&
    asked.dashboardPort !== 0 &&
    dash !== undefined &&
    dash !== asked.dashboardPort
  ) {
    lines.push(
      `  note          dashboard port ${asked.dashboardPort} is taken, so the dashboard is on ${dash}`,
    );
  }
  return lines;
}
