import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, isConfigError } from "@tsserve/protocol";
import {
  describe,
  resolveDeploymentOptions,
  type ApplicationSpec,
  type DeploymentSpec,
} from "@tsserve/protocol/internal";
import { loadApplicationGraph, type ApplicationGraph } from "@tsserve/replica/internal";
import { codeVersion } from "./code-version.js";
import { assertLoadsAsEsm, commonJsHint } from "./module-format.js";
import { absoluteRouterClass, checkRouter } from "./router-check.js";
import { loadServeConfig, type ServeApplicationConfig } from "./serve-config.js";

/**
 * Loads a serve config file and builds the `ApplicationSpec`s the controller deploys: each
 * application's code is imported (with tsx) to walk its bound graph; every deployment of the graph
 * gets its code options overridden field by field by the config's entry of the same name.
 */
/** Options of {@link buildApplicationSpecs}. */
export interface BuildSpecsOptions {
  /** Give every application a fresh code version, so its replicas roll over. @default false */
  force?: boolean;
}

export async function buildApplicationSpecs(
  file: string,
  options: BuildSpecsOptions = {},
): Promise<ApplicationSpec[]> {
  const config = loadServeConfig(file);
  // Relative importPaths resolve from the config file's directory, so `tsserve deploy` works from
  // any working directory and the same file deploys the same code.
  const cwd = dirname(resolve(file));
  const specs: ApplicationSpec[] = [];
  for (const [i, app] of config.applications.entries()) {
    specs.push(await buildApplicationSpec(file, `applications[${i}]`, app, cwd, options.force ?? false));
  }
  return specs;
}

async function buildApplicationSpec(
  file: string,
  path: string,
  app: ServeApplicationConfig,
  cwd: string,
  force: boolean,
): Promise<ApplicationSpec> {
  // The module part of `path#export` (validated by the schema).
  const entry = app.importPath.replace(/#[^#]*$/, "");
  const entryPath = isAbsolute(entry) ? entry : resolve(cwd, entry);
  let graph: ApplicationGraph;
  try {
    if (existsSync(entryPath)) assertLoadsAsEsm(entryPath);
    graph = await loadApplicationGraph(app.importPath, cwd);
  } catch (e) {
    if (isConfigError(e)) {
      const sep = e.message.startsWith("importPath") ? "." : ": ";
      throw new ConfigError(`${file}: ${path}${sep}${e.message}`, { cause: e });
    }
    // The user's module threw while being imported: say which one, keep its message.
    const msg = e instanceof Error ? `${e.name}: ${e.message}${commonJsHint(e.message)}` : describe(e);
    throw new ConfigError(
      `${file}: ${path}.importPath ${describe(app.importPath)}: importing the module failed: ${msg}`,
      {
        cause: e,
      },
    );
  }
  const names = [...graph.deployments.keys()];
  app.deployments.forEach((d, j) => {
    if (!graph.deployments.has(d.name)) {
      throw new ConfigError(
        `${file}: ${path}.deployments[${j}].name: expected one of the deployments of ${app.importPath} ` +
          `(${names.join(", ")}), got ${describe(d.name)}`,
      );
    }
  });
  let version: string;
  try {
    version = await codeVersion(entryPath, cwd, force);
  } catch (e) {
    if (isConfigError(e)) throw new ConfigError(`${file}: ${path}.importPath: ${e.message}`, { cause: e });
    throw e;
  }
  const deployments: DeploymentSpec[] = [];
  for (const [name, node] of graph.deployments) {
    const j = app.deployments.findIndex((d) => d.name === name);
    const override = j < 0 ? {} : app.deployments[j];
    const where = j < 0 ? `${path} (deployment ${name})` : `${path}.deployments[${j}]`;
    try {
      // Shallow merge: a field set in the config replaces the code's value as a whole (an
      // autoscalingConfig or requestRouter in YAML is taken entire, as in Ray Serve).
      const config = resolveDeploymentOptions({ ...node.deployment.options, ...override, name }, name, where);
      config.requestRouter.class = absoluteRouterClass(config.requestRouter.class, cwd);
      await checkRouter(config, where);
      deployments.push({ config, codeVersion: version });
    } catch (e) {
      if (isConfigError(e)) throw new ConfigError(`${file}: ${e.message}`, { cause: e });
      throw e;
    }
  }
  return {
    name: app.name,
    routePrefix: app.routePrefix,
    importPath: app.importPath,
    cwd,
    ingress: graph.ingress,
    deployments,
  };
}
