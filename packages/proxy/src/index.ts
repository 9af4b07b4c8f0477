export { startProxy, CLOSE_GRACE_MS, type Proxy } from "./proxy-server.js";
export {
  resolveProxyOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_HEADERS_COUNT,
  DEFAULT_SESSION_HEADER,
  DEFAULT_ROUTE_REFRESH_MS,
  type ProxyOptions,
  type ResolvedProxyOptions,
} from "./options.js";
export { ProxyMetrics } from "./metrics.js";
export { RouteTable, normalizeRoutePrefix, CALL_METHOD, type Route, type RouteMatch } from "./route-table.js";
export { normalizeHeaderName, sessionIdReader } from "./session-header.js";
export { HEALTH_PATH, ROUTES_PATH, METRICS_PATH } from "./request-handler.js";
export { NDJSON_CONTENT_TYPE } from "./ndjson-stream.js";
export { statusForError, errorBody, HttpError, type HttpErrorBody } from "./http-errors.js";
export {
  DEFAULT_GRPC_PORT,
  PROTO_LOADER_OPTIONS,
  type GrpcIngressOptions,
  type ResolvedGrpcOptions,
} from "./grpc/grpc-options.js";
export { loadProtos, type LoadedProtos, type ServiceInfo, type RpcInfo } from "./grpc/grpc-services.js";
export { GRPC_CODE_BY_ERROR, grpcStatusFor } from "./grpc/grpc-status.js";
export { APPLICATION_KEY, SESSION_ID_KEY } from "./grpc/grpc-target.js";
export { HEALTH_SERVICE } from "./grpc/grpc-health.js";
