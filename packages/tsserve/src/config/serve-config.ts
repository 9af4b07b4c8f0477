import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { ConfigError, type DeploymentOptions } from "@tsserve/protocol";
import { resolveDeploymentOptions } from "@tsserve/protocol/internal";
import { parseDocument } from "yaml";
import { configErrorOf } from "./schema-kit.js";
import { serveConfigSchema } from "./serve-schema.js";
import type { GrpcConfig } from "./grpc-config.js";

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
  const parsed = serveConfigSchema.safeParse(raw);
  if (!parsed.success) throw configErrorOf(parsed.error, raw);
  const applications = parsed.data.applications.map((app, i): ServeApplicationConfig => {
    const path = `applications[${i}]`;
    const deployments = (app.deployments ?? []).map((d, j) => {
      // The schema checked each field; this adds the rules between fields (autoscaling bounds in
      // order) with the same messages the code's deployment() options get.
      resolveDeploymentOptions(d, d.name, `${path}.deployments[${j}]`);
      return d as DeploymentOptions & { name: string };
    });
    unique(
      deployments.map((d) => d.name),
      (j) => `${path}.deployments[${j}].name`,
    );
    return {
      name: app.name,
      routePrefix: routePrefixOf(app.routePrefix, app.name),
      importPath: app.importPath,
      deployments,
    };
  });
  unique(
    applications.map((a) => a.name),
    (i) => `applications[${i}].name`,
  );
  unique(
    applications.map((a) => a.routePrefix),
    (i) => `applications[${i}].routePrefix`,
  );
  const grpc = parsed.data.grpcOptions;
  if (grpc === undefined) return { applications };
  return { applications, grpcOptions: { port: grpc.port ?? 9000, protoFiles: grpc.protoFiles } };
}

/** Absent → `/<name>`; `null` → not exposed; a trailing "/" is dropped. */
function routePrefixOf(value: string | null | undefined, appName: string): string | null {
  if (value === undefined) return `/${appName}`;
  if (value === null) return null;
  return value.length > 1 && value.endsWith("/") ? value.slice(0, -1) : value;
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
