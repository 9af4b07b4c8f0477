export { Controller } from "./controller.js";
export { controllerEntryPath } from "./entry-path.js";
export {
  resolveControllerOptions,
  DEFAULT_AGENT_REQUEST_TIMEOUT_MS,
  DEFAULT_AGENT_TIMEOUT_MS,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_LEASE_RENEW_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_RECOVERY_WINDOW_MS,
  DEFAULT_REPUBLISH_INTERVAL_MS,
  DEFAULT_STARTUP_TIMEOUT_MS,
  type ControllerOptions,
  type ResolvedControllerOptions,
} from "./controller-options.js";
export { parseControllerArgs, type ControllerArgs } from "./controller-args.js";
export { CHECKPOINT_KEY } from "./checkpoint-store.js";
export { LEASE_KEY } from "./leader-lease.js";
export { MAX_CONSTRUCTOR_RETRIES, MAX_PER_REPLICA_RETRIES } from "./health-monitor.js";
