/**
 * The public face of @tsserve/proxy: startProxy() and its options (HTTP and gRPC ingress).
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/proxy/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export { startProxy, type Proxy } from "./proxy-server.js";
export { type ProxyOptions, DEFAULT_HOST, DEFAULT_PORT } from "./options.js";
export { type GrpcIngressOptions, DEFAULT_GRPC_PORT } from "./grpc/grpc-options.js";
