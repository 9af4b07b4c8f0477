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
