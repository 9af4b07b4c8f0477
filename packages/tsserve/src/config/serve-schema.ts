import { z } from "zod";
import { intAtLeast, nonEmpty, numberAtLeast, strict } from "./schema-kit.js";

/**
 * The serve.yaml schema, written once: {@link parseServeConfig} validates with it (messages name the
 * field path, the value and what is accepted), `serve.schema.json` is generated from it for editor
 * completion, and docs/serve-yaml.md documents it. Cross-field rules that a JSON Schema cannot say
 * (unique names and routes, autoscaling bounds in order) are checked after it, in serve-config.ts.
 *
 * A new block (e.g. `grpcOptions`) is one `strict("…", { … })` constant here, added to
 * {@link serveConfigSchema}'s shape (top level) or {@link applicationSchema}'s; the JSON Schema and
 * the typo suggestions follow by themselves.
 */

// Subject tokens: what protocol's validateToken accepts (names become NATS subject tokens).
const TOKEN = /^[A-Za-z0-9_\-:@+=~]+$/;
const TOKEN_RULE = "use letters, digits and _ - : @ + = ~ (no dots, spaces or wildcards)";

/** A name that becomes a NATS subject token. */
const tokenName = (what: string) =>
  nonEmpty()
    .regex(TOKEN, { error: `invalid {path} {value}: ${TOKEN_RULE}` })
    .describe(`${what}; ${TOKEN_RULE}`);

const seconds = (what: string, min = 0) => numberAtLeast(min).optional().describe(what);

/** `requestRouter: { class, kwargs }` of a deployment. */
export const requestRouterSchema = strict("an object { class, kwargs }", {
  class: nonEmpty().describe(
    'Built-in router ("PowerOfTwoChoices", "ConsistentHash") or a module path "./file.ts#ExportName" relative to this file',
  ),
  kwargs: z
    .record(z.string(), z.unknown(), { error: "an object" })
    .optional()
    .describe("Options passed to the router's constructor (e.g. numVirtualNodes, numFallbackReplicas)"),
}).describe("Which router the deployment's handles use. Default: PowerOfTwoChoices");

/** `autoscalingConfig` of a deployment (Ray Serve's default policy). */
export const autoscalingSchema = strict("an object", {
  minReplicas: intAtLeast(0).optional().describe("Fewest replicas. Default 1"),
  maxReplicas: intAtLeast(1)
    .optional()
    .describe("Most replicas (>= minReplicas). Default max(1, minReplicas)"),
  initialReplicas: intAtLeast(0).optional().describe("Replicas to start with. Default minReplicas"),
  targetOngoingRequests: numberAtLeast(0, true)
    .optional()
    .describe("Ongoing requests per replica the policy aims for. Default 2"),
  upscaleDelayS: seconds("How long load must stay high before scaling up, in seconds. Default 30"),
  downscaleDelayS: seconds("How long load must stay low before scaling down, in seconds. Default 600"),
  lookBackPeriodS: seconds("Window over which load metrics are averaged, in seconds. Default 30"),
})
  .nullable()
  .describe("Autoscaling bounds and policy; when set, numReplicas is ignored");

/** `sessionState` of a deployment: per-session state with one owner replica at a time. */
export const sessionStateSchema = strict("an object { mode, ttlS, maxBytes, handoffTimeoutS, spill }", {
  mode: z
    .enum(["memory", "durable"], { error: '"memory" or "durable"' })
    .optional()
    .describe(
      'Where getSessionState() values live: "memory" (moved on planned changes, lost with a crashed replica) or "durable" (also written to JetStream KV before each reply). Default "memory"',
    ),
  ttlS: seconds("A session no call used this long is dropped by its owner; 0 = never, in seconds. Default 0"),
  maxBytes: intAtLeast(1)
    .optional()
    .describe("Largest encoded state set() accepts, in bytes. Default 1048576 (1 MiB)"),
  handoffTimeoutS: numberAtLeast(0, true)
    .optional()
    .describe(
      "How long a call waits for its session to move to its replica before SessionHandoffTimeoutError, in seconds. Default 10",
    ),
  spill: z
    .enum(["wait", "move"], { error: '"wait" or "move"' })
    .optional()
    .describe(
      'A call spilled to a replica that does not own its session: "wait" forwards it to the owner, "move" takes the session over there. Default "wait"',
    ),
}).describe("Per-session state (getSessionState()); the router defaults to ConsistentHash");

/** One entry of `applications[].deployments`: overrides of the code's `deployment()` options. */
export const deploymentSchema = strict("a mapping of deployment options with a name", {
  name: tokenName("The deployment to override (its class name unless deployment({ name }) says otherwise)"),
  numReplicas: intAtLeast(0).optional().describe("Fixed replica count. Default 1"),
  maxOngoingRequests: intAtLeast(1)
    .optional()
    .describe("A replica rejects work beyond this many concurrent requests. Default 5"),
  maxQueuedRequests: z
    .union([z.literal(-1), intAtLeast(1)], { error: "-1 (unlimited) or an integer >= 1" })
    .optional()
    .describe(
      "A handle raises BackPressureError beyond this many pending requests; -1 = unlimited. Default -1",
    ),
  requestRouter: requestRouterSchema.optional(),
  autoscalingConfig: autoscalingSchema.optional(),
  gracefulShutdownTimeoutS: seconds("Force-stop a draining replica after this long, in seconds. Default 20"),
  gracefulShutdownWaitLoopS: seconds(
    "A draining replica waits this long for routers to see it leave, in seconds. Default 2",
  ),
  heartbeatPeriodS: seconds("Replica heartbeat period, in seconds. Default 1", 0.01),
  heartbeatTimeoutS: seconds("A replica silent this long is presumed lost, in seconds. Default 5", 0.05),
  startupTimeoutS: seconds(
    "A replica not READY this long after its start fails the deployment (DEPLOY_FAILED), in seconds. Default 60",
    0.1,
  ),
  healthCheckPeriodS: seconds(
    "How often a RUNNING replica's checkHealth() runs, in seconds. Default 10",
    0.05,
  ),
  healthCheckTimeoutS: seconds(
    "A checkHealth() slower than this counts as failed, in seconds. Default 30",
    0.05,
  ),
  idempotent: z
    .union([z.boolean(), z.array(nonEmpty(), { error: "a list of method names" })], {
      error: "true, false or a list of method names",
    })
    .optional()
    .describe(
      "Methods safe to run twice: a call whose replica dies while running it is retried on another replica. true = every method. Default false",
    ),
  maxRetries: intAtLeast(0)
    .optional()
    .describe("Retries of an idempotent call after replica deaths. Default 3"),
  sessionState: sessionStateSchema.optional(),
  shared: z
    .union([z.boolean(), z.array(nonEmpty(), { error: "a list of method names" })], {
      error: "true, false or a list of method names",
    })
    .optional()
    .describe(
      "With sessionState: methods that may run while other calls of the same session run (reads). true = every method. Default false",
    ),
  multiplexed: strict("an object { maxModelsPerReplica }", {
    maxModelsPerReplica: intAtLeast(1)
      .optional()
      .describe(
        "Models one replica holds at once, evicted least recently used (Ray's max_num_models_per_replica). Default 3",
      ),
  })
    .optional()
    .describe(
      "Model multiplexing: calls name a model (multiplexedModelId), replicas load it with loadModel(id)",
    ),
}).describe("Options that override the code's deployment() options, field by field");

/** `path/to/app.ts#exportName`: the module part, then an optional JavaScript identifier. */
const IMPORT_PATH = /^[^#]+(#[A-Za-z_$][\w$]*)?$/;
/** A route: starts with "/", URL-safe characters, no "//". */
const ROUTE = /^(?!.*\/\/)\/[A-Za-z0-9._~\-/]*$/;

/** One entry of `applications`. */
export const applicationSchema = strict("a mapping with name, importPath, routePrefix, deployments", {
  name: tokenName("Application name (unique in the cluster)"),
  routePrefix: z
    .string({ error: `a path like "/chat" (starts with "/", no spaces or query) or null` })
    .regex(ROUTE, { error: `a path like "/chat" (starts with "/", no spaces or query) or null` })
    .nullable()
    .optional()
    .describe('HTTP route of the ingress deployment. Default "/<name>"; null = not exposed over HTTP'),
  importPath: nonEmpty()
    .regex(IMPORT_PATH, { error: '"path/to/app.ts#exportName"' })
    .describe(
      'The bound application: "path/to/app.ts#exportName", relative to this file; without "#…" the export named app',
    ),
  deployments: z
    .array(deploymentSchema, { error: "a list of deployment option overrides" })
    .optional()
    .describe("Per-deployment overrides, each naming a deployment of the application's graph"),
});

/** `grpcOptions` (Ray Serve's `grpc_options`): the gRPC ingress `tsserve run` starts. */
export const grpcOptionsSchema = strict("a mapping with port and protoFiles", {
  port: z
    .int({ error: "an integer between 0 and 65535" })
    .min(0, { error: "an integer between 0 and 65535" })
    .max(65535, { error: "an integer between 0 and 65535" })
    .optional()
    .describe("TCP port of the gRPC ingress. Default 9000"),
  protoFiles: z
    .array(nonEmpty(), { error: "a non-empty list of .proto files" })
    .min(1, { error: "a non-empty list of .proto files" })
    .describe(".proto files whose services the ingress serves, relative to this file"),
}).describe(
  "gRPC ingress: each RPC calls the ingress deployment's method of that name (exact, else lowerCamel)",
);

/** The whole serve.yaml. */
export const serveConfigSchema = strict("a mapping with an `applications` list", {
  applications: z
    .array(applicationSchema, { error: "a non-empty list of applications" })
    .min(1, { error: "a non-empty list of applications" })
    .describe("The applications to deploy; a deploy replaces the listed applications"),
  grpcOptions: grpcOptionsSchema.optional(),
}).describe("tsserve serve config (serve.yaml): applications and their deployments' options");

/** The serve config as written (before defaults: routePrefix absent means "/<name>"). */
export type ServeConfigInput = z.infer<typeof serveConfigSchema>;
