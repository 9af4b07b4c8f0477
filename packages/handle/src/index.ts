/**
 * The public face of @tsserve/handle: connect(), the Client and its typed handles, the request routers and membership sources.
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/handle/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export { connect, Client } from "./client.js";
export type {
  FromConnectionOptions,
  ConnectOptions,
  GetHandleOptions,
  HandleCallOptions,
} from "./options.js";
export type { DeploymentHandle, StreamingDeploymentHandle } from "./deployment-handle.js";
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
export { registerRouter } from "./router-registry.js";
export { PrefixAwareRouter, type PrefixAwareOptions } from "./prefix/prefix-aware-router.js";
export { ScoringRouter, DEFAULT_SCORER_WEIGHTS, type ScoringOptions } from "./scoring/scoring-router.js";
export type { Scorer, ScoringView } from "./scoring/scorers.js";
export type { HandleMetricsSink } from "./metrics-sink.js";
export { promHandleMetricsSink } from "./metrics/prom-handle-sink.js";
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
