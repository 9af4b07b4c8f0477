/**
 * The public face of @tsserve/protocol: tsserve's error family, the HTTP response helpers, the deployment option and status shapes, and the environment variable table.
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/protocol/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export {
  TsserveError,
  BackPressureError,
  RequestTimeoutError,
  RequestCancelledError,
  ReplicaDiedError,
  DeploymentNotFoundError,
  MethodNotFoundError,
  UserCodeError,
  ServeError,
  ConfigError,
  UnavailableError,
  ModelLoadError,
  BadRequestError,
  ReplyTooLargeError,
  PayloadTooLargeError,
  ProtocolError,
  SessionStateError,
  SessionOwnershipLostError,
  SessionHandoffTimeoutError,
  type ServeErrorOptions,
  isTsserveError,
  isBackPressureError,
  isRequestTimeoutError,
  isRequestCancelledError,
  isReplicaDiedError,
  isDeploymentNotFoundError,
  isMethodNotFoundError,
  isUserCodeError,
  isConfigError,
  isModelLoadError,
  isBadRequestError,
  isReplyTooLargeError,
  isServeError,
  isSessionStateError,
  isSessionOwnershipLostError,
  isSessionHandoffTimeoutError,
} from "./errors.js";
export { type ErrorCode, ERROR_CODES, isErrorCode } from "./error-codes.js";
export {
  httpResponse,
  isHttpResponse,
  type HttpRequestInfo,
  type HttpResponse,
  type HttpResponseInit,
} from "./http-info.js";
export type {
  AutoscalingOptions,
  DeploymentOptions,
  MultiplexedOptions,
  RequestRouterConfig,
} from "./options.js";
export type { SessionSpill, SessionStateMode, SessionStateOptions } from "./session-options.js";
export type { ReplicaInfo, ReplicaState, DeploymentStatus } from "./control-plane.js";
export type {
  StatusReport,
  ApplicationStatus,
  ApplicationStatusReport,
  DeploymentStatusReport,
} from "./controller-api.js";
export { TSSERVE_ENV } from "./environment.js";
