/**
 * @tsserve/cluster/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/cluster should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export { ManagedProcess, spawnNodeProcess } from "./managed-process.js";
export { agentEntryPath, parentWatchNodeArg } from "./entry-paths.js";
export { pidAlive, waitForPidExit } from "./pid-utils.js";
export { writeNatsRoles } from "./nats-roles.js";
