import { connect, type ConnectionOptions, type NatsConnection } from "nats";
import { UnavailableError } from "./errors.js";
import { natsAuthFromEnv } from "./nats-auth.js";

/** Options of {@link connectNats}: the address and name, and any nats.js option to override. */
export interface ConnectNatsOptions extends Omit<ConnectionOptions, "servers"> {
  /** NATS server URL(s), comma-separated. */
  address: string;
  /** Connection name shown by the server (`tsserve-agent-<node>` …). */
  name: string;
  /** Where credentials and TLS files are read from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Ping every 2 s, give up after 3 missed: a cut network is noticed in ~6 s, not nats.js's 4 min. */
export const DEFAULT_PING_INTERVAL_MS = 2000;
export const DEFAULT_MAX_PINGS_OUT = 3;

/**
 * The one way a tsserve component connects to NATS: credentials and TLS from the `TSSERVE_NATS_*`
 * variables, every server of the address, no async stack traces (hot path), reconnect forever
 * every 250 ms (components outlive NATS blips), and pings frequent enough to notice a partition.
 * A first connection that fails becomes an UnavailableError naming the address.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const { address, name, env, ...overrides } = options;
  const auth = natsAuthFromEnv(env); // a ConfigError here is the user's to fix, not "unavailable"
  try {
    return await connect({
      ...auth,
      servers: address.split(",").map((s) => s.trim()),
      name,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: DEFAULT_PING_INTERVAL_MS,
      maxPingOut: DEFAULT_MAX_PINGS_OUT,
      ...overrides,
    });
  } catch (cause) {
    throw new UnavailableError(`${name}: cannot connect to NATS at ${address}: ${String(cause)}`, { cause });
  }
}
