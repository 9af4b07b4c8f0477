import { isAbsolute, resolve } from "node:path";
import { createRouter } from "@tsserve/handle/internal";
import { ConfigError, isConfigError } from "@tsserve/protocol";
import { type ResolvedDeploymentConfig } from "@tsserve/protocol/internal";

/**
 * Makes a relative module-path router (`./routers/mine.ts#Mine`) absolute, resolved from the
 * application's folder. Every process that holds a handle loads the router (the HTTP proxy, the
 * CLI, clients, replicas of other deployments), each from its own working directory, so a relative
 * path would find the file only where the cluster happened to be started.
 */
export function absoluteRouterClass(cls: string, appDir: string): string {
  const hash = cls.lastIndexOf("#");
  if (hash <= 0) return cls; // a built-in name
  const file = cls.slice(0, hash);
  return isAbsolute(file) ? cls : `${resolve(appDir, file)}${cls.slice(hash)}`;
}

/**
 * Loads and constructs the deployment's router once, so an unknown router name, a missing module
 * or invalid kwargs fail `tsserve deploy` with the config path instead of every later request.
 */
export async function checkRouter(config: ResolvedDeploymentConfig, where: string): Promise<void> {
  const context = {
    app: "deploy-check",
    deployment: config.name,
    maxOngoingRequests: config.maxOngoingRequests,
    inFlight: () => 0,
  };
  try {
    await createRouter(config.requestRouter, context);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ConfigError(`${where}.requestRouter: ${message}`, { cause: isConfigError(e) ? e : undefined });
  }
}
