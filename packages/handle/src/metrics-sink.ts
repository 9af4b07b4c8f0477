/**
 * Optional observer of a client's routing, for metrics (the proxy feeds prom-client from it).
 * Every method is called synchronously on the hot path: implementations must be cheap and must
 * not throw.
 */
export interface HandleMetricsSink {
  /** A replica accepted a request; `rank` is the index of the router group it came from (0 = first choice). */
  requestRouted?(app: string, deployment: string, replicaId: string, rank: number): void;
  /** A replica rejected a request (it was full). */
  requestRejected?(app: string, deployment: string, replicaId: string): void;
  /** A request ended; `outcome` is "ok" or an error code (e.g. "USER_CODE", "TIMEOUT"). */
  requestCompleted?(app: string, deployment: string, durationMs: number, outcome: string): void;
  /** A queue length learned from a reply or probe. */
  queueLength?(app: string, deployment: string, replicaId: string, queueLen: number): void;
  /** A router rebuilt derived state (e.g. the hash ring) after a membership change. */
  routerRebuilt?(app: string, deployment: string, durationMs: number): void;
  /** The number of requests this handle holds waiting for a replica changed. */
  queuedChanged?(app: string, deployment: string, queued: number): void;
}
