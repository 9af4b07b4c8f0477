import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "@tsserve/protocol";
import { describe, type ResolvedDeploymentConfig } from "@tsserve/protocol/internal";
import { register } from "tsx/esm/api";
import {
  deploymentOf,
  isApplication,
  isDeployment,
  type Application,
  type Deployment,
} from "./deployment.js";

/** One deployment reachable from an application's ingress. */
export interface GraphDeployment {
  deployment: Deployment;
  /** Its bound constructor arguments (Applications not yet replaced by handles). */
  args: readonly unknown[];
  /** Its options as written in code, resolved (serve.yaml overrides come later, in the CLI). */
  config: ResolvedDeploymentConfig;
}

/** Every deployment of one application, by name. */
export interface ApplicationGraph {
  /** Name of the deployment that receives the application's traffic. */
  ingress: string;
  deployments: Map<string, GraphDeployment>;
}

let tsxRegistered = false;

/** Registers tsx's ESM hooks once per process so that `.ts` user modules import without a build. */
function ensureTsx(): void {
  if (tsxRegistered) return;
  register();
  tsxRegistered = true;
}

/** Splits `path/to/file.ts#exportName`; the export defaults to `app`. */
export function parseImportPath(importPath: string): { file: string; exportName: string } {
  if (typeof importPath !== "string" || importPath.length === 0) {
    throw new ConfigError(`importPath: expected "path/to/file.ts#exportName", got ${describe(importPath)}`);
  }
  const hash = importPath.lastIndexOf("#");
  const file = hash < 0 ? importPath : importPath.slice(0, hash);
  const exportName = hash < 0 ? "app" : importPath.slice(hash + 1);
  if (file.length === 0 || exportName.length === 0) {
    throw new ConfigError(`importPath ${describe(importPath)}: expected "path/to/file.ts#exportName"`);
  }
  return { file, exportName };
}

function describeExport(value: unknown): string {
  if (isDeployment(value)) return `Deployment "${value.name}" (call .bind(...) to make an Application)`;
  if (deploymentOf(value) !== undefined)
    return `decorated class (use bind(Class, ...args) to make an Application)`;
  if (typeof value === "function") {
    return `class or function ${value.name || "(anonymous)"} (wrap it: deployment(options)(Class).bind(...))`;
  }
  return describe(value);
}

/**
 * Imports `importPath` (`path/to/file.ts#exportName`, export `app` by default, relative paths
 * resolved from `cwd`) with tsx and walks the bound graph: the ingress and every deployment reachable
 * through constructor arguments (also inside arrays and plain objects, one level deep). Throws a
 * ConfigError for a missing file or export, an export that is not an Application, or two different
 * bindings under one deployment name. Errors thrown by the module itself propagate unchanged.
 */
export async function loadApplicationGraph(importPath: string, cwd: string): Promise<ApplicationGraph> {
  const { file, exportName } = parseImportPath(importPath);
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new ConfigError(
      `importPath ${describe(importPath)}: file ${abs} not found (relative paths resolve from ${cwd})`,
    );
  }
  ensureTsx();
  const mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  if (!(exportName in mod)) {
    const names = Object.keys(mod).filter((k) => k !== "__esModule");
    throw new ConfigError(
      `importPath ${describe(importPath)}: ${abs} has no export "${exportName}"; ` +
        `its exports are: ${names.length > 0 ? names.join(", ") : "(none)"}`,
    );
  }
  const root = mod[exportName];
  if (!isApplication(root)) {
    throw new ConfigError(
      `importPath ${describe(importPath)}: export "${exportName}" is not a bound Application, got ${describeExport(root)}`,
    );
  }
  return buildGraph(root);
}

/** Walks an Application's bound graph (no I/O); exported for callers that already hold the object. */
export function buildGraph(root: Application): ApplicationGraph {
  const deployments = new Map<string, GraphDeployment>();
  const seen = new Map<string, Application>();
  const visit = (app: Application): void => {
    const name = app.deployment.name;
    const prev = seen.get(name);
    if (prev === app) return;
    if (prev !== undefined) {
      const why =
        prev.deployment === app.deployment
          ? `deployment "${name}" is bound twice with different arguments; bind it once and reuse the Application`
          : `two different deployments are named "${name}"; give one of them another name with deployment({ name })`;
      throw new ConfigError(`application graph: ${why}`);
    }
    seen.set(name, app);
    deployments.set(name, { deployment: app.deployment, args: app.args, config: app.deployment.config });
    for (const child of childApplications(app.args)) visit(child);
  };
  visit(root);
  return { ingress: root.deployment.name, deployments };
}

/** Applications among constructor args: top level, and inside arrays / plain objects one level deep. */
export function childApplications(args: readonly unknown[]): Application[] {
  const out: Application[] = [];
  for (const arg of args) {
    if (isApplication(arg)) out.push(arg);
    else if (Array.isArray(arg)) out.push(...arg.filter(isApplication));
    else if (isPlainObject(arg)) out.push(...Object.values(arg).filter(isApplication));
  }
  return out;
}

/** Plain `{}` objects only: class instances are user values and are passed through untouched. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
