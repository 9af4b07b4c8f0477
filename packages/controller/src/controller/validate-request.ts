import {
  checkResolvedAutoscaling,
  checkResolvedSessionState,
  resolveShared,
  DEFAULT_HEALTH_CHECK_PERIOD_S,
  DEFAULT_HEALTH_CHECK_TIMEOUT_S,
  DEFAULT_STARTUP_TIMEOUT_S,
  fail,
  intAtLeast,
  isPlainObject,
  nonEmptyString,
  numberAtLeast,
  resolveRouterConfig,
  resolveIdempotent,
  DEFAULT_MAX_RETRIES,
  validateToken,
  type ApplicationSpec,
  type DeployRequest,
  type DeploymentSpec,
  type ResolvedDeploymentConfig,
} from "@tsserve/protocol/internal";
import { ProtocolError, TsserveError } from "@tsserve/protocol";

/**
 * Validation of requests that reach the controller over NATS. Anything malformed becomes a
 * ProtocolError (BAD_REQUEST) whose message names the field, the value and what is accepted; the
 * controller replies with it and keeps running.
 */

function asBadRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TsserveError && e.code !== "BAD_REQUEST")
      throw new ProtocolError(e.message, { cause: e });
    throw e;
  }
}

/** Checks a ResolvedDeploymentConfig that crossed the wire (the CLI resolved it; we trust nothing). */
export function validateResolvedConfig(path: string, v: unknown): ResolvedDeploymentConfig {
  if (!isPlainObject(v)) fail(path, "a resolved deployment config object", v);
  const name = validateToken(`${path}.name`, nonEmptyString(`${path}.name`, v["name"]));
  const maxQueuedRequests = v["maxQueuedRequests"];
  if (maxQueuedRequests !== -1) intAtLeast(`${path}.maxQueuedRequests`, maxQueuedRequests, 1);
  return {
    name,
    numReplicas: intAtLeast(`${path}.numReplicas`, v["numReplicas"], 0),
    maxOngoingRequests: intAtLeast(`${path}.maxOngoingRequests`, v["maxOngoingRequests"], 1),
    maxQueuedRequests: maxQueuedRequests as number,
    requestRouter: resolveRouterConfig(`${path}.requestRouter`, v["requestRouter"]),
    autoscaling: checkResolvedAutoscaling(`${path}.autoscaling`, v["autoscaling"]),
    gracefulShutdownTimeoutMs: numberAtLeast(
      `${path}.gracefulShutdownTimeoutMs`,
      v["gracefulShutdownTimeoutMs"],
      0,
    ),
    gracefulShutdownWaitLoopMs: numberAtLeast(
      `${path}.gracefulShutdownWaitLoopMs`,
      v["gracefulShutdownWaitLoopMs"],
      0,
    ),
    heartbeatPeriodMs: numberAtLeast(`${path}.heartbeatPeriodMs`, v["heartbeatPeriodMs"], 1),
    heartbeatTimeoutMs: numberAtLeast(`${path}.heartbeatTimeoutMs`, v["heartbeatTimeoutMs"], 1),
    idempotent: resolveIdempotent(`${path}.idempotent`, v["idempotent"]),
    maxRetries: intAtLeast(`${path}.maxRetries`, v["maxRetries"] ?? DEFAULT_MAX_RETRIES, 0),
    // Absent from a CLI older than these options: Ray's defaults.
    startupTimeoutMs: numberAtLeast(
      `${path}.startupTimeoutMs`,
      v["startupTimeoutMs"] ?? DEFAULT_STARTUP_TIMEOUT_S * 1000,
      1,
    ),
    healthCheckPeriodMs: numberAtLeast(
      `${path}.healthCheckPeriodMs`,
      v["healthCheckPeriodMs"] ?? DEFAULT_HEALTH_CHECK_PERIOD_S * 1000,
      1,
    ),
    healthCheckTimeoutMs: numberAtLeast(
      `${path}.healthCheckTimeoutMs`,
      v["healthCheckTimeoutMs"] ?? DEFAULT_HEALTH_CHECK_TIMEOUT_S * 1000,
      1,
    ),
    // Absent from a CLI older than session state: a stateless deployment.
    sessionState: checkResolvedSessionState(`${path}.sessionState`, v["sessionState"]),
    shared: resolveShared(`${path}.shared`, v["shared"]),
  };
}

function validateApplication(path: string, v: unknown): ApplicationSpec {
  if (!isPlainObject(v)) fail(path, "an application spec object", v);
  const name = validateToken(`${path}.name`, nonEmptyString(`${path}.name`, v["name"]));
  const routePrefix = v["routePrefix"] ?? null;
  if (routePrefix !== null && (typeof routePrefix !== "string" || !routePrefix.startsWith("/"))) {
    fail(`${path}.routePrefix`, 'null or a path starting with "/"', routePrefix);
  }
  const importPath = nonEmptyString(`${path}.importPath`, v["importPath"]);
  const cwd = nonEmptyString(`${path}.cwd`, v["cwd"]);
  const ingress = nonEmptyString(`${path}.ingress`, v["ingress"]);
  const list = v["deployments"];
  if (!Array.isArray(list) || list.length === 0) fail(`${path}.deployments`, "a non-empty array", list);
  const seen = new Set<string>();
  const deployments: DeploymentSpec[] = list.map((d: unknown, i) => {
    const p = `${path}.deployments[${i}]`;
    if (!isPlainObject(d)) fail(p, "an object { config, codeVersion }", d);
    const config = validateResolvedConfig(`${p}.config`, d["config"]);
    if (seen.has(config.name)) fail(`${p}.config.name`, "a name unique within the application", config.name);
    seen.add(config.name);
    return { config, codeVersion: nonEmptyString(`${p}.codeVersion`, d["codeVersion"]) };
  });
  if (!seen.has(ingress))
    fail(`${path}.ingress`, `one of the deployment names (${[...seen].join(", ")})`, ingress);
  return { name, routePrefix: routePrefix as string | null, importPath, cwd, ingress, deployments };
}

/** Validates a `ctl.deploy` body. */
export function validateDeployRequest(body: unknown): DeployRequest {
  return asBadRequest(() => {
    if (!isPlainObject(body)) fail("deploy request", "an object { applications: [...] }", body);
    const list = body["applications"];
    if (!Array.isArray(list)) fail("applications", "an array of application specs", list);
    const names = new Set<string>();
    const applications = list.map((a: unknown, i) => {
      const app = validateApplication(`applications[${i}]`, a);
      if (names.has(app.name)) fail(`applications[${i}].name`, "a name unique within the request", app.name);
      names.add(app.name);
      return app;
    });
    return { applications };
  });
}

/** Validates a `ctl.delete` body `{ app }`. */
export function validateDeleteRequest(body: unknown): { app: string } {
  return asBadRequest(() => {
    if (!isPlainObject(body)) fail("delete request", "an object { app }", body);
    return { app: nonEmptyString("app", body["app"]) };
  });
}

/** Validates a `ctl.members` body `{ app, deployment }`. */
export function validateMembersRequest(body: unknown): { app: string; deployment: string } {
  return asBadRequest(() => {
    if (!isPlainObject(body)) fail("members request", "an object { app, deployment }", body);
    return {
      app: nonEmptyString("app", body["app"]),
      deployment: nonEmptyString("deployment", body["deployment"]),
    };
  });
}
