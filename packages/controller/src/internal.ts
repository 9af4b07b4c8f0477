/**
 * @tsserve/controller/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/controller should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export { controllerEntryPath } from "./controller/entry-path.js";
export { defaultStateBucket } from "./controller/controller-options.js";
export { CHECKPOINT_KEY } from "./controller/checkpoint-store.js";
export { validateDeployRequest } from "./controller/validate-request.js";
