/**
 * @tsserve/proxy/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/proxy should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export { PROTO_LOADER_OPTIONS } from "./grpc/grpc-options.js";
