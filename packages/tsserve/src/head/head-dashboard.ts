import type { Registry } from "prom-client";
import { startDashboard, type Dashboard } from "../dashboard/dashboard-server.js";
import { openConnection } from "./target.js";

/**
 * Starts the head's dashboard (and cluster-wide `/metrics`) on its own NATS connection (a free
 * port if `port` is taken); returns undefined when disabled (`port` null). Closing it closes the
 * connection.
 */
export async function startHeadDashboard(
  address: string,
  prefix: string,
  port: number | null,
  host: string,
  local: readonly Registry[],
): Promise<Dashboard | undefined> {
  if (port === null) return undefined;
  const nc = await openConnection({ address, prefix, source: "the head", stateDir: "" });
  try {
    let dash: Dashboard;
    try {
      dash = await startDashboard({ nc, prefix, port, host, local });
    } catch (e) {
      // Like the NATS port: a taken port means another head runs here; any free one will do,
      // and `tsserve start` prints the URL.
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0) throw e;
      dash = await startDashboard({ nc, prefix, port: 0, host, local });
    }
    return {
      url: dash.url,
      close: async () => {
        await dash.close();
        await nc.close();
      },
    };
  } catch (e) {
    await nc.close();
    throw e;
  }
}
