import { ControllerClient } from "@tsserve/controller";
import type { NatsConnection } from "nats";
import { ConfigError, UnavailableError, isConfigError } from "@tsserve/protocol";
import { DEFAULT_PREFIX, connectNats, validatePrefix } from "@tsserve/protocol/internal";
import { findStateDir } from "./find-state-dir.js";
import { ADDRESS_FILE, readAddressFile, readHeadRecord } from "./state-dir.js";

/** Environment variable naming the cluster's NATS address when `--address` is absent. */
export const ADDRESS_ENV = "TSSERVE_ADDRESS";
/** Environment variable naming the subject prefix when `--prefix` is absent. */
export const PREFIX_ENV = "TSSERVE_PREFIX";

/** The flags every command shares. */
export interface TargetFlags {
  /** `--address URL` */
  address?: string;
  /** `--prefix P` */
  prefix?: string;
  /** `--state-dir DIR` (where the local head wrote its address). */
  stateDir?: string;
}

/** Which cluster a command talks to, and how that was decided (shown in errors). */
export interface Target {
  address: string;
  prefix: string;
  /** `--address`, `TSSERVE_ADDRESS`, or the address file's path. */
  source: string;
  /** The state directory consulted (absolute). */
  stateDir: string;
}

/**
 * Resolves the cluster address: `--address`, else `TSSERVE_ADDRESS`, else the address file the
 * local head wrote (`<state-dir>/address`; the nearest `.tsserve/` from the cwd upwards unless
 * `--state-dir` or `TSSERVE_STATE_DIR` says otherwise). The prefix follows
 * `--prefix`, `TSSERVE_PREFIX`, the head's record (when the address came from it), "tsserve".
 */
export function resolveTarget(
  flags: TargetFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Target {
  const stateDir = findStateDir(flags.stateDir, cwd, env);
  let address: string | undefined;
  let source: string;
  let headPrefix: string | undefined;
  if (flags.address !== undefined && flags.address !== "") {
    address = flags.address;
    source = "--address";
  } else if (env[ADDRESS_ENV]) {
    address = env[ADDRESS_ENV];
    source = ADDRESS_ENV;
  } else {
    address = readAddressFile(stateDir);
    source = `${stateDir}/${ADDRESS_FILE}`;
    headPrefix = readHeadRecord(stateDir)?.prefix;
    if (address === undefined) {
      throw new UnavailableError(
        `no cluster address: pass --address nats://host:4222, set ${ADDRESS_ENV}, ` +
          `or start a local head with \`tsserve start\` (no ${source} found, nor a .tsserve/address ` +
          `in ${cwd} or any folder above it)`,
      );
    }
  }
  const prefix = flags.prefix ?? env[PREFIX_ENV] ?? headPrefix ?? DEFAULT_PREFIX;
  return { address: validateAddress(address, source), prefix: validatePrefix(prefix), source, stateDir };
}

/** Accepts `nats://host:port`, `host:port` or `tls://…`, comma-separated; names the source on error. */
export function validateAddress(address: string, source: string): string {
  for (const part of address.split(",")) {
    const url = part.includes("://") ? part : `nats://${part}`;
    let ok = false;
    try {
      const u = new URL(url);
      ok = ["nats:", "tls:", "ws:", "wss:"].includes(u.protocol) && u.hostname.length > 0;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new ConfigError(
        `${source}: expected a NATS URL such as nats://127.0.0.1:4222, got ${JSON.stringify(address)}`,
      );
    }
  }
  return address;
}

/** Deadline of the first NATS connect of a command: an unreachable address fails fast. */
export const CONNECT_TIMEOUT_MS = 2000;

/** Opens a NATS connection; an unreachable address says which address and where it came from. */
export async function openConnection(target: Target): Promise<NatsConnection> {
  try {
    // A command gives up rather than waiting for a cluster that may never come back.
    return await connectNats({
      address: target.address,
      name: "tsserve-cli",
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: 10,
    });
  } catch (e) {
    if (isConfigError(e)) throw e;
    throw unreachable(target, (e as Error).cause ?? e);
  }
}

/** A ControllerClient on its own connection (closed by `close()`). */
export async function connectController(target: Target, timeoutMs?: number): Promise<ControllerClient> {
  const nc = await openConnection(target);
  return new ControllerClient(
    nc,
    { prefix: target.prefix, address: target.address, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    true,
  );
}

/** Adds where the address came from to a connection error. */
export function unreachable(target: Target, cause: unknown): Error {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new UnavailableError(
    `cannot reach NATS at ${target.address} (address from ${target.source}): ${msg}; ` +
      "is the cluster running? (`tsserve start`)",
    { cause },
  );
}
