/**
 * @tsserve/replica/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/replica should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export { loadApplicationGraph, type ApplicationGraph } from "./application-graph.js";
export { startReplicaProcess, type StartReplicaOptions, REPLICA_MAIN } from "./start-replica-process.js";
export { parseReplicaSpec } from "./replica-spec.js";
