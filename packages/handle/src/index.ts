export { connect, Client } from "./client.js";
export type {
  DeploymentHandle,
  StreamingDeploymentHandle,
  HandleCore,
  MethodCaller,
  StreamingMethodCaller,
  MethodNames,
  StreamElement,
} from "./deployment-handle.js";
/** For ingress servers (the HTTP proxy): one call with prepared options. */
export { submitCall } from "./deployment-handle.js";
export { DeploymentResponse } from "./deployment-response.js";
export { DeploymentResponseStream } from "./deployment-response-stream.js";
export {
  RequestRouter,
  type RequestRouterClass,
  type RouterContext,
  type RoutingRequest,
} from "./request-router.js";
export { PowerOfTwoChoicesRouter } from "./power-of-two-router.js";
export { ConsistentHashRouter } from "./consistent-hash/consistent-hash-router.js";
export { registerRouter, knownRouterNames, resolveRouterClass, createRouter } from "./router-registry.js";
export type { HandleMetricsSink } from "./metrics-sink.js";
export type {
  MembershipSource,
  MembershipListener,
  MembershipUpdate,
} from "./membership/membership-source.js";
export {
  staticMembership,
  type StaticMembership,
  type StaticMembershipOptions,
} from "./membership/static-membership.js";
export {
  controllerMembership,
  type ControllerMembershipOptions,
} from "./membership/controller-membership.js";
export { QueueLengthCache } from "./queue-length-cache.js";
export { backoffDelayMs, probeDeadlineMs } from "./backoff.js";
export {
  DEFAULT_ADDRESS,
  ADDRESS_ENV,
  DEFAULT_METHOD,
  type ConnectOptions,
  type FromConnectionOptions,
  type GetHandleOptions,
  type HandleCallOptions,
} from "./options.js";
export { DeploymentDispatcher, type DispatcherOptions, type SubmitOptions } from "./dispatch/dispatcher.js";
export type {
  DeploymentTransport,
  ProbeResult,
  ReplyTarget,
  Exchange,
  ConsumerCredit,
} from "./replica-transport.js";
export { NO_RESPONDERS } from "./replica-transport.js";
export {
  natsAuthFromEnv,
  applyNatsAuthFlags,
  NATS_AUTH_ENV,
  NATS_AUTH_FLAGS,
  type NatsAuthOptions,
} from "./nats-auth.js";
export { PromHandleMetricsSink, promHandleMetricsSink } from "./metrics/prom-handle-sink.js";
export { processRegistry, setProcessLabels, serveMetrics, metricsSubject } from "@tsserve/protocol";
export { hashKeyBigInt } from "./consistent-hash/murmur3.js";
