import type { HttpRequestInfo } from "@tsserve/protocol";
import type { MembershipSource } from "../membership/membership-source.js";
import type { HandleMetricsSink } from "../metrics-sink.js";
import type { DeploymentTransport } from "../replica-transport.js";
import type { ReplicaSetOptions } from "./replica-set.js";

/** Timed-out probes in a row (of a replica with calls in flight) that take it out of routing. */
export const UNREACHABLE_DROP_PROBES = 2;
/** Timed-out probes in a row after which its calls in flight fail (or retry, when idempotent). */
export const UNREACHABLE_FAIL_PROBES = 3;

/** Options of a {@link DeploymentDispatcher}. */
export interface DispatcherOptions {
  app: string;
  deployment: string;
  /** Where the replica set and routing config come from. */
  membership: MembershipSource;
  /** The data plane bound to this deployment. */
  transport: DeploymentTransport;
  /**
   * The start of every request id of this client (its id and a dash); the rest is the call's
   * `arrival` number in base 36, unique in the process (see `PendingRequest.requestId`).
   */
  requestIdPrefix: string;
  metrics?: HandleMetricsSink | undefined;
  /** Directory custom router module paths resolve from. */
  cwd?: string | undefined;
  /** Clock in milliseconds (monotonic); tests may replace it. @default performance.now */
  now?: () => number;
  /** Builds the router a config names. @default the router registry */
  createRouter?: ReplicaSetOptions["createRouter"];
}

/** What a call asks for; see `HandleCallOptions`. */
export interface SubmitOptions {
  method: string;
  sessionId: string | null;
  stream: boolean;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** The HTTP request behind the call (the proxy sets it); user code reads it from its request context. */
  http?: HttpRequestInfo | undefined;
  /**
   * The ingress JSON fast path (RequestMessage.json): args is `[JSON text bytes]`, parsed by the
   * replica; a unary result arrives as JSON text bytes (or an `httpResponse()` value).
   */
  json?: boolean;
  /** Text a prefix-matching router matches instead of reading the arguments. */
  prefixKey?: string | null | undefined;
  /** The model the call needs (multiplexing). */
  multiplexedModelId?: string | null | undefined;
}
