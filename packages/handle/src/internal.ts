/**
 * @tsserve/handle/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/handle should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export { createRouter } from "./router-registry.js";
export { hashKeyBigInt } from "./consistent-hash/murmur3.js";
/** The replica side of stateful deployments places sessions on the same ring as the handles. */
export { HashRing } from "./consistent-hash/hash-ring.js";
/** For ingress servers (the HTTP proxy): one call with prepared options, without a handle per call. */
export { submitCall } from "./deployment-handle.js";
export type { SubmitOptions } from "./dispatch/types.js";
/** The local head's state directory and address file, found like git finds `.git/` (the CLI's rule too). */
export {
  ADDRESS_FILE,
  DEFAULT_STATE_DIR,
  HEAD_FILE,
  STATE_DIR_ENV,
  findClusterAddress,
  findStateDir,
  projectRoot,
  readAddressFile,
  stateDirForHead,
  type FoundAddress,
} from "./local-head.js";
