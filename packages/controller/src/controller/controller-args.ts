import { ConfigError, TSSERVE_ENV } from "@tsserve/protocol";
import { DEFAULT_PREFIX } from "@tsserve/protocol/internal";

/** What `controller-main` is started with. */
export interface ControllerArgs {
  address: string;
  prefix: string;
  controllerId?: string;
  /** `--kv-replicas N`: replicas of the state bucket (default: the NATS cluster size up to 3). */
  kvReplicas?: number;
  /** `--replica-fence-ms N`: see ControllerOptions.replicaFenceMs. */
  replicaFenceMs?: number;
  /** `--agent-timeout-ms N`: see ControllerOptions.agentTimeoutMs. */
  agentTimeoutMs?: number;
  /** `--lease-ttl-ms N`: see ControllerOptions.leaseTtlMs. */
  leaseTtlMs?: number;
  /** `--lease-renew-ms N`: see ControllerOptions.leaseRenewMs. */
  leaseRenewMs?: number;
}

const USAGE =
  "usage: controller-main --address URL [--prefix P] [--controller-id ID] [--kv-replicas N] " +
  "[--replica-fence-ms N] [--agent-timeout-ms N] [--lease-ttl-ms N] [--lease-renew-ms N]";

/** Numeric flags and the option each one sets. */
const NUMERIC = {
  "kv-replicas": "kvReplicas",
  "replica-fence-ms": "replicaFenceMs",
  "agent-timeout-ms": "agentTimeoutMs",
  "lease-ttl-ms": "leaseTtlMs",
  "lease-renew-ms": "leaseRenewMs",
} as const;

/**
 * Parses `--address URL [--prefix P] [--controller-id ID]` (also `--flag=value`), falling back to
 * the environment variables TSSERVE_ADDRESS and TSSERVE_PREFIX.
 */
export function parseControllerArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ControllerArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m =
      /^--(address|prefix|controller-id|kv-replicas|replica-fence-ms|agent-timeout-ms|lease-ttl-ms|lease-renew-ms)(?:=(.*))?$/.exec(
        arg,
      );
    if (!m) throw new ConfigError(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value.length === 0) throw new ConfigError(`--${m[1]} needs a value; ${USAGE}`);
    values.set(m[1]!, value);
  }
  const address = values.get("address") ?? env[TSSERVE_ENV.address];
  if (!address) throw new ConfigError(`no NATS address: pass --address URL or set TSSERVE_ADDRESS; ${USAGE}`);
  const out: ControllerArgs = {
    address,
    prefix: values.get("prefix") ?? env[TSSERVE_ENV.prefix] ?? DEFAULT_PREFIX,
  };
  const id = values.get("controller-id");
  if (id !== undefined) out.controllerId = id;
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = values.get(flag);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigError(`--${flag}: expected a positive integer, got ${JSON.stringify(raw)}`);
    out[key] = n;
  }
  return out;
}
