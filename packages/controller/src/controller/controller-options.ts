import { DEFAULT_PREFIX, validatePrefix } from "@tsserve/protocol/internal";
import { createLogger, fail, intAtLeast, nonEmptyString } from "@tsserve/protocol/internal";

/** Options of {@link Controller}. */
export interface ControllerOptions {
  /** NATS server URL(s), comma-separated. */
  address: string;
  /** Subject prefix (namespace). @default "tsserve" */
  prefix?: string;
  /** This controller's id in the leader lease. @default `ctl-<hostname>-<pid>-<random>` */
  controllerId?: string;
  /** Reconcile loop period. @default 100 */
  reconcileIntervalMs?: number;
  /** Membership snapshots are re-published this often to heal lost messages. @default 2000 */
  republishIntervalMs?: number;
  /** After taking the lease, wait this long to hear live replicas before acting. @default 2500 */
  recoveryWindowMs?: number;
  /** Leader lease time-to-live: a lease not renewed for this long may be taken over. @default 3000 */
  leaseTtlMs?: number;
  /** How often the leader renews its lease (and a passive controller checks it). @default 1000 */
  leaseRenewMs?: number;
  /** An agent silent for this long is presumed lost together with its replicas. @default 5000 */
  agentTimeoutMs?: number;
  /** A replica not READY this long after its start request is presumed stuck. @default 60000 */
  startupTimeoutMs?: number;
  /** Timeout of requests to agents. @default 5000 */
  agentRequestTimeoutMs?: number;
  /** First crash-loop backoff delay; doubles per consecutive failure. @default 200 */
  backoffBaseMs?: number;
  /** Largest crash-loop backoff delay. @default 10000 */
  backoffMaxMs?: number;
  /**
   * A replica cut from NATS, or left out of membership while RUNNING, for this long stops by
   * itself (at least twice the heartbeat and agent timeouts). @default DEFAULT_REPLICA_FENCE_MS
   */
  replicaFenceMs?: number;
  /**
   * Replicas of the JetStream KV bucket (checkpoint and lease), at most 5. @default the number of
   * servers the NATS cluster reports, up to 3 (1 on a single server)
   */
  kvReplicas?: number;
  /** JetStream KV bucket for the checkpoint and the lease. @default `tsserve_<prefix>` (other characters than letters, digits, _ and - become _) */
  bucket?: string;
  /** Where log lines go. @default a pino logger, component "controller", on stderr */
  log?: (line: string) => void;
}

/** {@link ControllerOptions} with every default filled in (kvReplicas: 0 = from the cluster size). */
export type ResolvedControllerOptions = Required<ControllerOptions>;

/** The controller's state bucket for a subject prefix (KV bucket names allow only letters, digits, _ and -). */
export function defaultStateBucket(prefix: string): string {
  return `tsserve_${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

export const DEFAULT_RECONCILE_INTERVAL_MS = 100;
export const DEFAULT_REPUBLISH_INTERVAL_MS = 2000;
export const DEFAULT_RECOVERY_WINDOW_MS = 2500;
export const DEFAULT_LEASE_TTL_MS = 3000;
export const DEFAULT_LEASE_RENEW_MS = 1000;
export const DEFAULT_AGENT_TIMEOUT_MS = 5000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
export const DEFAULT_AGENT_REQUEST_TIMEOUT_MS = 5000;
export const DEFAULT_BACKOFF_BASE_MS = 200;
export const DEFAULT_BACKOFF_MAX_MS = 10_000;
export const DEFAULT_REPLICA_FENCE_MS = 30_000;

/** JetStream streams have at most 5 replicas. */
function kvReplicas(value: unknown): number {
  const n = intAtLeast("controller.kvReplicas", value, 1);
  if (n > 5) fail("controller.kvReplicas", "an integer from 1 to 5", n);
  return n;
}

/** The controller's pino logger (level and format from TSSERVE_LOG_LEVEL / TSSERVE_LOG_FORMAT). */
function defaultLog(): (line: string) => void {
  const logger = createLogger("controller");
  return (line) => logger.info(line);
}

/** Validates options once and fills in defaults; a bad value raises a ConfigError naming it. */
export function resolveControllerOptions(o: ControllerOptions): ResolvedControllerOptions {
  const address = nonEmptyString("controller.address", o.address);
  const prefix = validatePrefix(o.prefix ?? DEFAULT_PREFIX);
  const ms = (name: keyof ControllerOptions, value: unknown, dflt: number, min = 1): number =>
    intAtLeast(`controller.${name}`, value ?? dflt, min);
  const controllerId = o.controllerId ?? `ctl-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  if (typeof controllerId !== "string" || controllerId.length === 0) {
    fail("controller.controllerId", "a non-empty string", controllerId);
  }
  const leaseTtlMs = ms("leaseTtlMs", o.leaseTtlMs, DEFAULT_LEASE_TTL_MS);
  const leaseRenewMs = ms("leaseRenewMs", o.leaseRenewMs, DEFAULT_LEASE_RENEW_MS);
  if (leaseRenewMs >= leaseTtlMs) {
    fail("controller.leaseRenewMs", `a value below leaseTtlMs (${leaseTtlMs})`, leaseRenewMs);
  }
  return {
    address,
    prefix,
    controllerId,
    reconcileIntervalMs: ms("reconcileIntervalMs", o.reconcileIntervalMs, DEFAULT_RECONCILE_INTERVAL_MS),
    republishIntervalMs: ms("republishIntervalMs", o.republishIntervalMs, DEFAULT_REPUBLISH_INTERVAL_MS),
    recoveryWindowMs: ms("recoveryWindowMs", o.recoveryWindowMs, DEFAULT_RECOVERY_WINDOW_MS, 0),
    leaseTtlMs,
    leaseRenewMs,
    agentTimeoutMs: ms("agentTimeoutMs", o.agentTimeoutMs, DEFAULT_AGENT_TIMEOUT_MS),
    startupTimeoutMs: ms("startupTimeoutMs", o.startupTimeoutMs, DEFAULT_STARTUP_TIMEOUT_MS),
    agentRequestTimeoutMs: ms(
      "agentRequestTimeoutMs",
      o.agentRequestTimeoutMs,
      DEFAULT_AGENT_REQUEST_TIMEOUT_MS,
    ),
    backoffBaseMs: ms("backoffBaseMs", o.backoffBaseMs, DEFAULT_BACKOFF_BASE_MS),
    backoffMaxMs: ms("backoffMaxMs", o.backoffMaxMs, DEFAULT_BACKOFF_MAX_MS),
    replicaFenceMs: ms("replicaFenceMs", o.replicaFenceMs, DEFAULT_REPLICA_FENCE_MS),
    kvReplicas: o.kvReplicas === undefined ? 0 : kvReplicas(o.kvReplicas),
    bucket: o.bucket ?? defaultStateBucket(prefix),
    log: o.log ?? defaultLog(),
  };
}
