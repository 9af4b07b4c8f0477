import { readFileSync } from "node:fs";
import { extname } from "node:path";
import {
  ConfigError,
  fail,
  isPlainObject,
  noUnknownKeys,
  nonEmptyString,
  resolveDeploymentOptions,
  validateToken,
  type DeploymentOptions,
} from "@tsserve/protocol";
import { parseDocument } from "yaml";
import { validateGrpcConfig, type GrpcConfig } from "./grpc-config.js";

/** One application of a serve.yaml, validated but not yet resolved against its code. */
export interface ServeApplicationConfig {
  /** Application name (one subject token). */
  name: string;
  /** HTTP route prefix (`/chat`), or null when the application is not exposed over HTTP. */
  routePrefix: string | null;
  /** `path/to/app.ts#exportName`; a relative path resolves from the config file's directory. */
  importPath: string;
  /** Per-deployment option overrides, each naming a deployment of the application's graph. */
  deployments: (DeploymentOptions & { name: string })[];
}

/** A validated serve.yaml (or serve.json). */
export interface ServeConfig {
  applications: ServeApplicationConfig[];
  /** The gRPC ingress (port, proto files), when the file has a `grpcOptions` block. */
  grpcOptions?: GrpcConfig;
}

const TOP_KEYS = ["applications", "grpcOptions"] as const;
const APP_KEYS = ["name", "routePrefix", "importPath", "deployments"] as const;

/**
 * Reads and validates a serve config file (YAML, or JSON when the name ends in `.json`). Every
 * error is a one-line ConfigError that starts with `file` as the caller named it, then the path of
 * the bad field, the value and what is accepted.
 */
export function loadServeConfig(file: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new ConfigError(`${file}: cannot read the config file: ${why}`);
  }
  return parseServeConfig(text, file);
}

/** Parses and validates config text; `file` names the source in error messages. */
export function parseServeConfig(text: string, file: string): ServeConfig {
  const raw = extname(file).toLowerCase() === ".json" ? parseJson(text, file) : parseYaml(text, file);
  try {
    return validateServeConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`, { data: e.data ?? {} });
    throw e;
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err !== undefined) {
    // yaml's messages span several lines (with a code frame); keep the first for a one-line error.
    const where = err.linePos ? `:${err.linePos[0].line}:${err.linePos[0].col}` : "";
    const first = err.message.split("\n")[0] ?? err.message;
    throw new ConfigError(
      `${file}${where}: invalid YAML: ${first.replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  return doc.toJS() as unknown;
}

/** Validates the parsed document's shape (no file I/O, no user code). */
export function validateServeConfig(raw: unknown): ServeConfig {
  if (!isPlainObject(raw)) fail("(top level)", "a mapping with an `applications` list", raw);
  noUnknownKeys("", raw, TOP_KEYS);
  const apps = raw["applications"];
  if (!Array.isArray(apps) || apps.length === 0)
    fail("applications", "a non-empty list of applications", apps);
  const applications = apps.map((a, i) => validateApplication(`applications[${i}]`, a));
  unique(
    applications.map((a) => a.name),
    (i) => `applications[${i}].name`,
  );
  unique(
    applications.map((a) => a.routePrefix),
    (i) => `applications[${i}].routePrefix`,
  );
  if (raw["grpcOptions"] === undefined) return { applications };
  return { applications, grpcOptions: validateGrpcConfig("grpcOptions", raw["grpcOptions"]) };
}

function validateApplication(path: string, value: unknown): ServeApplicationConfig {
  if (!isPlainObject(value)) fail(path, "a mapping with name, importPath, routePrefix, deployments", value);
  noUnknownKeys(path, value, APP_KEYS);
  const name = nonEmptyString(`${path}.name`, value["name"]);
  validateToken(`${path}.name`, name);
  const importPath = nonEmptyString(`${path}.importPath`, value["importPath"]);
  if (!/^[^#]+(#[A-Za-z_$][\w$]*)?$/.test(importPath)) {
    fail(`${path}.importPath`, `"path/to/app.ts#exportName"`, importPath);
  }
  const routePrefix = validateRoutePrefix(`${path}.routePrefix`, value["routePrefix"], name);
  const deps = value["deployments"] ?? [];
  if (!Array.isArray(deps)) fail(`${path}.deployments`, "a list of deployment option overrides", deps);
  const deployments = deps.map((d, i) => validateDeploymentOverride(`${path}.deployments[${i}]`, d));
  unique(
    deployments.map((d) => d.name),
    (i) => `${path}.deployments[${i}].name`,
  );
  return { name, routePrefix, importPath, deployments };
}

/** Absent → `/<name>`; `null` → not exposed; otherwise a path starting with `/`. */
function validateRoutePrefix(path: string, value: unknown, appName: string): string | null {
  if (value === undefined) return `/${appName}`;
  if (value === null) return null;
  if (typeof value !== "string" || !/^\/[A-Za-z0-9._~\-/]*$/.test(value) || value.includes("//")) {
    fail(path, `a path like "/chat" (starts with "/", no spaces or query) or null`, value);
  }
  return value.length > 1 && value.endsWith("/") ? value.slice(0, -1) : value;
}

function validateDeploymentOverride(path: string, value: unknown): DeploymentOptions & { name: string } {
  if (!isPlainObject(value)) fail(path, "a mapping of deployment options with a name", value);
  const name = nonEmptyString(`${path}.name`, value["name"]);
  // Validate the overrides on their own now (types, ranges, unknown keys) so a typo is reported
  // with its path before any user code is imported; they are resolved again once merged.
  resolveDeploymentOptions(value, name, path);
  return { ...(value as DeploymentOptions), name };
}

/** Throws at the second occurrence of a value (nulls are exempt: several apps may have no route). */
function unique(values: (string | null)[], pathOf: (index: number) => string): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    if (v === null) return;
    const first = seen.get(v);
    if (first !== undefined) {
      throw new ConfigError(
        `${pathOf(i)}: ${JSON.stringify(v)} is already used by ${pathOf(first)}; expected a unique value`,
      );
    }
    seen.set(v, i);
  });
}
