import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError } from "@tsserve/protocol";
import {
  APP_TS,
  GITIGNORE,
  SCRIPTS,
  SERVE_YAML,
  TSCONFIG_JSON,
  TYPESCRIPT_RANGE,
  packageJson,
} from "./templates.js";

/** What {@link scaffoldApp} did. */
export interface ScaffoldResult {
  /** The app folder (absolute). */
  dir: string;
  /** Files written, relative to `dir`. */
  created: string[];
  /** Present when an existing package.json was updated: what changed in it. */
  updatedPackageJson: string[] | undefined;
}

/** The tsserve version this CLI belongs to (the new app depends on it). */
export function tsserveVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** An npm package name from a folder name (lower case, URL-safe). */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  return name.length > 0 ? name : "tsserve-app";
}

/**
 * Writes a new app into `dir` (created if missing): app.ts, serve.yaml, tsconfig.json, .gitignore
 * and package.json. Refuses to overwrite app.ts, serve.yaml or tsconfig.json. An existing
 * package.json (e.g. after `npm install tsserve`) is updated, not replaced: `"type": "module"`,
 * the tsserve dependency and missing scripts are added, everything else is kept.
 */
export function scaffoldApp(dirArg: string): ScaffoldResult {
  const dir = resolve(dirArg);
  const files: [string, string][] = [
    ["app.ts", APP_TS],
    ["serve.yaml", SERVE_YAML],
    ["tsconfig.json", TSCONFIG_JSON],
  ];
  const taken = files.map(([f]) => f).filter((f) => existsSync(join(dir, f)));
  if (taken.length > 0) {
    throw new ConfigError(
      `${dir} already has ${taken.join(", ")}; run \`tsserve init\` in a new or empty folder`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const created: string[] = [];
  for (const [name, text] of files) {
    writeFileSync(join(dir, name), text);
    created.push(name);
  }
  if (!existsSync(join(dir, ".gitignore"))) {
    writeFileSync(join(dir, ".gitignore"), GITIGNORE);
    created.push(".gitignore");
  }
  const pkgFile = join(dir, "package.json");
  const version = tsserveVersion();
  if (!existsSync(pkgFile)) {
    writeFileSync(pkgFile, `${JSON.stringify(packageJson(packageName(dir), version), null, 2)}\n`);
    created.push("package.json");
    return { dir, created, updatedPackageJson: undefined };
  }
  return { dir, created, updatedPackageJson: updatePackageJson(pkgFile, version) };
}

/** Adds what the app needs to an existing package.json; returns what it changed. */
function updatePackageJson(file: string, version: string): string[] {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${file}: cannot update it: ${(e as Error).message}`);
  }
  const changes: string[] = [];
  if (pkg["type"] !== "module") {
    pkg["type"] = "module";
    changes.push('"type": "module"');
  }
  const deps = (pkg["dependencies"] ?? {}) as Record<string, string>;
  if (deps["tsserve"] === undefined) {
    pkg["dependencies"] = { ...deps, tsserve: `^${version}` };
    changes.push("the tsserve dependency");
  }
  const scripts = (pkg["scripts"] ?? {}) as Record<string, string>;
  const added = Object.keys(SCRIPTS).filter((k) => scripts[k] === undefined);
  if (added.length > 0) {
    pkg["scripts"] = { ...scripts, ...Object.fromEntries(added.map((k) => [k, SCRIPTS[k]!])) };
    changes.push(`scripts ${added.join(", ")}`);
  }
  // The typecheck script runs tsc: without TypeScript it would fail with "tsc: not found".
  const devDeps = (pkg["devDependencies"] ?? {}) as Record<string, string>;
  if (deps["typescript"] === undefined && devDeps["typescript"] === undefined) {
    pkg["devDependencies"] = { ...devDeps, typescript: TYPESCRIPT_RANGE };
    changes.push("the typescript devDependency (for the typecheck script)");
  }
  writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  return changes;
}
