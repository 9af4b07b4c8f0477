export { deployment, bind, isDeployment, isApplication, deploymentOf } from "./deployment.js";
export type {
  Deployment,
  Application,
  DeploymentClass,
  DeploymentFactory,
  BindArgs,
  Bindable,
} from "./deployment.js";
export { loadApplicationGraph, parseImportPath, buildGraph } from "./application-graph.js";
export type { ApplicationGraph, GraphDeployment } from "./application-graph.js";
export { getReplicaContext, getRequestContext } from "./context.js";
export type { ReplicaContext, RequestContext } from "./context.js";
export { startReplicaProcess, REPLICA_MAIN } from "./start-replica-process.js";
export type { StartReplicaOptions } from "./start-replica-process.js";
export { parseReplicaSpec } from "./replica-spec.js";
/** User metrics inside a deployment, like Ray Serve's `ray.serve.metrics`. */
export * as metrics from "./user-metrics.js";
export type { MetricOptions, HistogramOptions } from "./user-metrics.js";
