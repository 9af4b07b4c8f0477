/**
 * The public face of @tsserve/replica: deployment(), bind(), the replica and request contexts and user metrics.
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/replica/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export {
  deployment,
  bind,
  isDeployment,
  isApplication,
  type Deployment,
  type Application,
  type DeploymentClass,
  type DeploymentFactory,
  type DeploymentCodeOptions,
  type HasMethods,
  type BindArgs,
  type Bindable,
} from "./deployment.js";
export { getReplicaContext, getRequestContext, type ReplicaContext, type RequestContext } from "./context.js";
export { getSessionState, type SessionState, type SessionOrigin } from "./session/session-api.js";
export { getMultiplexedModelId, getMultiplexedModel } from "./multiplex/multiplexed-context.js";
/** User metrics inside a deployment, like Ray Serve's `ray.serve.metrics`. */
export * as metrics from "./user-metrics.js";
export type { MetricOptions, HistogramOptions } from "./user-metrics.js";
