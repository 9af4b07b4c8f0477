/**
 * tsserve: serve stateful TypeScript classes as replicated, session-aware services over NATS.
 *
 * This facade is what applications import (**contract**). It re-exports the pieces of the
 * workspace packages a user needs and holds no logic of its own:
 *
 * ```ts
 * import { deployment, connect, getReplicaContext } from "tsserve";
 * ```
 *
 * @packageDocumentation
 */

// The public types mention Node's (child processes, AsyncLocalStorage, NodeJS.ProcessEnv,
// Symbol.asyncDispose): tsserve runs only on Node, so it depends on @types/node and references it
// here, so that `tsc` on an app type-checks without the app installing @types/node itself.
/// <reference types="node" preserve="true" />

// Declaring deployments and reading where/what a replica is serving.
export { deployment, bind, getReplicaContext, getRequestContext } from "@tsserve/replica";
// Per-session state of stateful deployments (`deployment({ sessionState })`).
export { getSessionState } from "@tsserve/replica";
export type { SessionState, SessionOrigin } from "@tsserve/replica";
// Model multiplexing inside a replica (Ray's serve.get_multiplexed_model_id()).
export { getMultiplexedModelId, getMultiplexedModel } from "@tsserve/replica";
// User metrics inside a replica (Counter, Gauge, Histogram with tags), like `ray.serve.metrics`.
export { metrics } from "@tsserve/replica";
export type { MetricOptions, HistogramOptions } from "@tsserve/replica";
// Opt-in Prometheus series for a client's own handles: connect({ metrics: promHandleMetricsSink() }).
export { promHandleMetricsSink } from "@tsserve/handle";
export type {
  Application,
  BindArgs,
  Deployment,
  DeploymentClass,
  DeploymentCodeOptions,
  DeploymentFactory,
  ReplicaContext,
  RequestContext,
} from "@tsserve/replica";

// Calling deployments from anywhere on the cluster, and pluggable routing.
export {
  connect,
  Client,
  DeploymentResponse,
  DeploymentResponseStream,
  RequestRouter,
  PowerOfTwoChoicesRouter,
  ConsistentHashRouter,
  PrefixAwareRouter,
  ScoringRouter,
  DEFAULT_SCORER_WEIGHTS,
  registerRouter,
} from "@tsserve/handle";
export type {
  ConnectOptions,
  DeploymentHandle,
  StreamingDeploymentHandle,
  GetHandleOptions,
  HandleCallOptions,
  RequestRouterClass,
  RouterContext,
  RoutingRequest,
  PrefixAwareOptions,
  ScoringOptions,
  Scorer,
  ScoringView,
} from "@tsserve/handle";

// Errors users can catch, and guards that work across package copies and for errors from the wire.
export {
  TsserveError,
  BackPressureError,
  RequestTimeoutError,
  RequestCancelledError,
  ReplicaDiedError,
  DeploymentNotFoundError,
  MethodNotFoundError,
  UserCodeError,
  ServeError,
  ConfigError,
  UnavailableError,
  BadRequestError,
  ReplyTooLargeError,
  SessionStateError,
  SessionOwnershipLostError,
  SessionHandoffTimeoutError,
  ModelLoadError,
  isModelLoadError,
  isTsserveError,
  isBackPressureError,
  isRequestTimeoutError,
  isRequestCancelledError,
  isReplicaDiedError,
  isDeploymentNotFoundError,
  isMethodNotFoundError,
  isUserCodeError,
  isConfigError,
  isBadRequestError,
  isReplyTooLargeError,
  isServeError,
  isSessionStateError,
  isSessionOwnershipLostError,
  isSessionHandoffTimeoutError,
} from "@tsserve/protocol";

// HTTP for user code: shape the proxy's answer (status, headers, body).
export { httpResponse, isHttpResponse } from "@tsserve/protocol";
export type { HttpRequestInfo, HttpResponse, HttpResponseInit, ServeErrorOptions } from "@tsserve/protocol";

// Option and status shapes (serve.yaml deployment entries use DeploymentOptions).
export type {
  AutoscalingOptions,
  DeploymentOptions,
  MultiplexedOptions,
  ErrorCode,
  ReplicaInfo,
  ReplicaState,
  DeploymentStatus,
  RequestRouterConfig,
  SessionSpill,
  SessionStateMode,
  SessionStateOptions,
  StatusReport,
} from "@tsserve/protocol";
