/**
 * @tsserve/protocol/internal: names the sibling tsserve packages (and this repository's tests and
 * benchmarks) need but users of @tsserve/protocol should not build on. No compatibility promise: these
 * change with the packages that use them. Pinned by packages/tsserve/test/package-faces.test.ts.
 *
 * @packageDocumentation
 */
export {
  AGENT_OPS,
  type AgentHeartbeat,
  type AgentReplica,
  type ReplicaExit,
  type StartReplicaRequest,
  type StopReplicaRequest,
} from "./agent-api.js";
export {
  type ApplicationSpec,
  CONTROLLER_OPS,
  type ControllerReply,
  type DeployRequest,
  type DeploymentSpec,
} from "./controller-api.js";
export {
  CreditKind,
  DEFAULT_STREAM_CREDIT_TIMEOUT_MS,
  DEFAULT_STREAM_WINDOW_BYTES,
  DEFAULT_STREAM_WINDOW_CHUNKS,
  MAX_STREAM_KEEPALIVE_MS,
  type StreamFlow,
  decodeCredit,
  encodeCredit,
  encodeStreamCancel,
  encodeStreamFlow,
} from "./stream-flow.js";
export {
  DEFAULT_FENCE_AFTER_MS,
  type HandleMetrics,
  type MembershipSnapshot,
  REPLICA_SPEC_ENV,
  type ReplicaFence,
  type ReplicaHeartbeat,
  type ReplicaSpec,
  type RoutingConfig,
} from "./control-plane.js";
export {
  DEFAULT_HEALTH_CHECK_PERIOD_S,
  DEFAULT_HEALTH_CHECK_TIMEOUT_S,
  DEFAULT_MAX_ONGOING_REQUESTS,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_ROUTER_CLASS,
  DEFAULT_STARTUP_TIMEOUT_S,
  type ResolvedAutoscaling,
  type ResolvedDeploymentConfig,
  resolveDeploymentOptions,
  resolveIdempotent,
  resolveRouterConfig,
} from "./options.js";
export {
  DEFAULT_SESSION_HANDOFF_TIMEOUT_S,
  DEFAULT_SESSION_MAX_BYTES,
  type ResolvedSessionState,
  checkResolvedSessionState,
  resolveSessionState,
  resolveShared,
} from "./session-options.js";
export {
  type HandoffOffer,
  type HandoffRequest,
  HandoffStatus,
  SESSION_FORWARD_MOVED_HEADER,
  SESSION_FORWARD_REPLY_HEADER,
  type SessionRecord,
  decodeHandoffOffer,
  decodeHandoffReply,
  decodeHandoffRequest,
  decodeSessionRecord,
  encodeHandoffOffer,
  encodeHandoffReply,
  encodeHandoffRequest,
  encodeSessionRecord,
  sessionBucketName,
  sessionKey,
} from "./session-wire.js";
export {
  DEFAULT_PREFIX,
  VERBS,
  agentPattern,
  agentSubject,
  controllerSubject,
  creditPattern,
  creditSubject,
  handleMetricsSubject,
  heartbeatSubject,
  membersSubject,
  probeSubject,
  replicaControlSubject,
  requestSubject,
  sessionForwardSubject,
  sessionHandoffSubject,
  subject,
  subjectPattern,
  validatePrefix,
  validateToken,
} from "./subjects.js";
export {
  ACCESS_LOG_ENV,
  LOG_FORMAT_ENV,
  LOG_LEVEL_ENV,
  LOG_TIME_ENV,
  createLogger,
  parseLogFormat,
  parseLogLevel,
} from "./logger.js";
export {
  type LogLine,
  type LogQuery,
  type LogQueryReply,
  type LogStream,
  MAX_LOG_LINE_CHARS,
  formatLogFileLine,
  logQuerySubject,
  logsSubject,
  parseLogFileLine,
  parseLogQuery,
} from "./logs-api.js";
export type { Logger } from "./logger.js";
export { MAX_NESTING_DEPTH } from "./encode-diagnosis.js";
export {
  NATS_AUTH_ENV,
  NATS_AUTH_FLAGS,
  type NatsAuthOptions,
  applyNatsAuthFlags,
  natsAuthFromEnv,
} from "./nats-auth.js";
export {
  type Reply,
  ReplyKind,
  type RequestMessage,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
} from "./data-plane.js";
export { type WireError, errorFromWire, errorToWire } from "./wire-error.js";
export { RawHttpInfo } from "./http-info.js";
export { jsonReplyBytes, parseJsonArgs } from "./json-call.js";
export { WriteCoalescer } from "./write-coalescer.js";
export { connectNats, DEFAULT_MAX_PINGS_OUT, DEFAULT_PING_INTERVAL_MS } from "./connect-nats.js";
export {
  AUTOSCALING_BOUNDS,
  CONFIG_BOUNDS,
  type ConfigBound,
  type NumberFields,
  checkBound,
  userKey,
  userScale,
} from "./config-bounds.js";
export {
  decodeReplicaSpec,
  decodeResolvedAutoscaling,
  decodeResolvedConfig,
  decodeRoutingConfig,
} from "./config-decode.js";
export { decodeControllerReply, decodeStatusReport } from "./controller-api-decode.js";
export { decode, encode } from "./codec.js";
export {
  decodeAgentHeartbeat,
  decodeMembershipSnapshot,
  decodeReplicaExit,
  decodeReplicaFence,
  decodeReplicaHeartbeat,
} from "./control-plane-decode.js";
export {
  describe,
  fail,
  intAtLeast,
  isPlainObject,
  nonEmptyString,
  numberAtLeast,
  requireEmptyMap,
} from "./validate.js";
export { metricsSubject, serveMetrics } from "./metrics/metrics-responder.js";
export { parseStartCommand, parseStopCommand } from "./agent-commands.js";
export { processRegistry, setProcessLabels } from "./metrics/process-registry.js";
export { unknownFieldMessage } from "./did-you-mean.js";
export {
  checkMultiplexedModelId,
  MAX_MULTIPLEXED_MODEL_ID_LENGTH,
  MULTIPLEXED_MODEL_ID_HEADER,
  MULTIPLEXED_MODEL_ID_METADATA,
} from "./multiplexed.js";
