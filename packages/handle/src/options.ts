import type { ConnectionOptions } from "nats";
import type { HttpRequestInfo } from "@tsserve/protocol";
import type { HandleMetricsSink } from "./metrics-sink.js";
import type { MembershipSource } from "./membership/membership-source.js";

/** Environment variable holding the default NATS address. */
export const ADDRESS_ENV = "TSSERVE_ADDRESS";

/** First sleep after every candidate group failed (Ray: RAY_SERVE_ROUTER_RETRY_INITIAL_BACKOFF_S). */
export const INITIAL_BACKOFF_MS = 25;
/** Growth of the sleep per further failed pass. */
export const BACKOFF_MULTIPLIER = 2;
/** Longest sleep between passes. */
export const MAX_BACKOFF_MS = 500;
/** Probe deadline of the first pass (Ray: RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S). */
export const PROBE_DEADLINE_MS = 100;
/** Longest probe deadline, reached by doubling per backoff round. */
export const MAX_PROBE_DEADLINE_MS = 1000;
/** A cached queue length older than this is unknown again (Ray: RAY_SERVE_QUEUE_LENGTH_CACHE_TIMEOUT_S). */
export const QUEUE_LEN_CACHE_TTL_MS = 10_000;
/** A replica with a request in flight this long gets a liveness probe about this often. */
export const LIVENESS_CHECK_INTERVAL_MS = 1000;
/** Period of handle metrics publication while there is traffic. */
export const METRICS_PERIOD_MS = 1000;
/** Deadline of one `ctl.members` lookup. */
export const MEMBERS_LOOKUP_TIMEOUT_MS = 2000;

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * NATS server URL(s), comma-separated.
   * @default `TSSERVE_ADDRESS`, else the local head's: the nearest `.tsserve/address` from `cwd`
   * upwards (`TSSERVE_STATE_DIR` if set), as the `tsserve` commands find it; none is an
   * UnavailableError (never a guess at nats://127.0.0.1:4222). `client.addressSource` says which.
   */
  address?: string;
  /** Subject prefix (namespace) of the tsserve cluster. @default the local head's when its address is used, else "tsserve" */
  prefix?: string;
  /** Optional observer of routing events (the proxy feeds Prometheus from it). */
  metrics?: HandleMetricsSink;
  /**
   * Passed through to the NATS client (credentials, TLS, name, reconnect policy, pings…) over
   * `connectNats`'s defaults. `servers` is taken from `address`.
   */
  natsOptions?: Omit<ConnectionOptions, "servers">;
  /**
   * Directory custom router module paths (`./routers/mine.ts#MyRouter`) resolve from, and where
   * the search for the local head's `.tsserve/address` starts. @default process.cwd()
   */
  cwd?: string;
}

/** Options of {@link Client.fromConnection}. */
export interface FromConnectionOptions {
  /** Subject prefix of the tsserve cluster. @default "tsserve" */
  prefix?: string;
  /** Optional observer of routing events. */
  metrics?: HandleMetricsSink;
  /** Directory custom router module paths resolve from. @default process.cwd() */
  cwd?: string;
}

/** Options of `client.getDeploymentHandle(name, options)`. */
export interface GetHandleOptions {
  /** The application the deployment belongs to. */
  app: string;
  /**
   * Where the replica set comes from. @default the controller (`ctl.members`, then the
   * `members.<app>.<deployment>` broadcasts). Tests and benches pass `staticMembership(...)`.
   */
  membership?: MembershipSource;
}

/** Per-call options of `handle.options({...})`. Every field is optional and inherited. */
export interface HandleCallOptions {
  /** Session id: ConsistentHash keeps a session on one replica. @default null */
  sessionId?: string | null;
  /** Method to call. @default "__call__" */
  method?: string;
  /** Expect a stream of chunks from an async-generator method. @default false */
  stream?: boolean;
  /** Fail with RequestTimeoutError after this many milliseconds; 0 or undefined = no timeout. */
  timeoutMs?: number;
  /** Cancels the request (routing stops at once; the caller sees RequestCancelledError). */
  signal?: AbortSignal;
  /**
   * The HTTP request behind this call, passed to the replica (`getRequestContext().http`). The
   * HTTP proxy sets it; handle callers usually leave it out. @default undefined (not sent)
   */
  http?: HttpRequestInfo;
  /**
   * The text a prefix-matching router (`PrefixAware`, `Scoring`) matches against what each replica
   * has cached, instead of reading the prompt from the call's arguments (the router's
   * `promptField` kwarg). Give it when the prompt is not an argument field, e.g. a rendered chat
   * template. Other routers ignore it. @default null (the router reads the arguments)
   */
  prefixKey?: string | null;
  /**
   * The model this call needs on a multiplexed deployment (`deployment({ multiplexed })`, Ray's
   * `multiplexed_model_id`): routing prefers a replica that has it loaded, and the replica loads it
   * (once) before the call runs; user code reads it with `getMultiplexedModelId()`. A non-empty
   * string of at most 200 characters without control characters. @default null (no model)
   */
  multiplexedModelId?: string | null;
}

/** The name of the default method, as in Ray Serve. */
export const DEFAULT_METHOD = "__call__";
