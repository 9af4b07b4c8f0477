import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, type RequestRouterConfig } from "@tsserve/protocol";
import { ConsistentHashRouter } from "./consistent-hash/consistent-hash-router.js";
import { PowerOfTwoChoicesRouter } from "./power-of-two-router.js";
import { PrefixAwareRouter } from "./prefix/prefix-aware-router.js";
import { ScoringRouter } from "./scoring/scoring-router.js";
import { RequestRouter, type RequestRouterClass, type RouterContext } from "./request-router.js";

const builtins = new Map<string, RequestRouterClass>([
  ["PowerOfTwoChoices", PowerOfTwoChoicesRouter],
  ["ConsistentHash", ConsistentHashRouter],
  ["PrefixAware", PrefixAwareRouter],
  ["Scoring", ScoringRouter],
]);

/**
 * Makes `cls` available as `requestRouter: { class: name }` in this process. Use it for routers
 * shipped in a package; a router in the application's own code can be named by module path instead.
 */
export function registerRouter(name: string, cls: RequestRouterClass): void {
  if (typeof name !== "string" || name.length === 0 || name.includes("#")) {
    throw new ConfigError(`router name must be a non-empty string without "#", got ${JSON.stringify(name)}`);
  }
  if (typeof cls !== "function") throw new ConfigError(`router ${JSON.stringify(name)} must be a class`);
  builtins.set(name, cls);
}

/** Names usable in `requestRouter.class` without a module path. */
export function knownRouterNames(): string[] {
  return [...builtins.keys()];
}

/**
 * Resolves `requestRouter.class`: a registered name, or `./path/to/module.ts#ExportName` resolved
 * from `cwd` and loaded with tsx (TypeScript needs no build step). Throws a ConfigError naming the
 * value and what is accepted.
 */
export async function resolveRouterClass(
  name: string,
  cwd: string = process.cwd(),
): Promise<RequestRouterClass> {
  const known = builtins.get(name);
  if (known !== undefined) return known;
  const hash = name.lastIndexOf("#");
  if (hash <= 0 || hash === name.length - 1) {
    throw new ConfigError(
      `unknown request router ${JSON.stringify(name)}: use one of ${knownRouterNames()
        .map((n) => JSON.stringify(n))
        .join(", ")} or a module path like "./routers/mine.ts#MyRouter"`,
    );
  }
  const file = name.slice(0, hash);
  const exportName = name.slice(hash + 1);
  const url = pathToFileURL(isAbsolute(file) ? file : resolve(cwd, file)).href;
  let mod: Record<string, unknown>;
  try {
    // tsx is loaded only when a custom router is used: it is heavy and most handles never need it.
    const { tsImport } = await import("tsx/esm/api");
    mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(
      `cannot load request router module ${JSON.stringify(file)} (from ${cwd}): ${(cause as Error).message}`,
      { cause },
    );
  }
  const cls = mod[exportName];
  if (typeof cls !== "function" || !(cls.prototype instanceof RequestRouter || hasRouterShape(cls))) {
    throw new ConfigError(
      `request router ${JSON.stringify(name)}: export ${JSON.stringify(exportName)} is not a RequestRouter class (exports: ${Object.keys(
        mod,
      ).join(", ")})`,
    );
  }
  return cls as RequestRouterClass;
}

// A router module may import a second copy of @tsserve/handle (tsx, another install), so its class
// does not extend this copy's RequestRouter; accept anything with the hot method.
function hasRouterShape(cls: { prototype?: unknown }): boolean {
  const proto = cls.prototype as { chooseReplicas?: unknown } | undefined;
  return typeof proto?.chooseReplicas === "function";
}

/**
 * Creates the router a deployment's config names. Errors from the class's constructor (invalid
 * kwargs) propagate with their own message.
 */
export async function createRouter(
  config: Required<RequestRouterConfig>,
  context: RouterContext,
  cwd?: string,
): Promise<RequestRouter> {
  const cls = await resolveRouterClass(config.class, cwd);
  return new cls(context, config.kwargs);
}
