import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { ConfigError } from "@tsserve/protocol";

/**
 * The CommonJS trap: tsserve is ESM only, and Node (with tsx) loads a `.ts`/`.js` file as CommonJS
 * unless the nearest package.json says `"type": "module"`. The import then fails deep inside Node
 * with "Cannot require() ES Module … in a cycle", which says nothing about the cause. This finds the
 * cause before importing and says what to do.
 */

/** The nearest package.json at or above `dir`, or undefined. */
export function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const file = join(d, "package.json");
    if (existsSync(file)) return file;
    if (dirname(d) === d) return undefined;
  }
}

/** Throws a ConfigError naming the fix when `entry` would be loaded as CommonJS. */
export function assertLoadsAsEsm(entry: string): void {
  const ext = extname(entry);
  if (![".ts", ".tsx", ".js", ".jsx"].includes(ext)) return; // .mts/.mjs are ESM, .cts/.cjs the user's choice
  const pkg = nearestPackageJson(dirname(entry));
  let type: unknown;
  if (pkg !== undefined) {
    try {
      type = (JSON.parse(readFileSync(pkg, "utf8")) as { type?: unknown }).type;
    } catch {
      return; // an unreadable package.json fails the import with Node's own, clearer message
    }
  }
  if (type === "module") return;
  const where =
    pkg === undefined
      ? `there is no package.json in ${dirname(entry)} or above it`
      : `${relative(process.cwd(), pkg) || pkg} has no "type": "module"`;
  throw new ConfigError(
    `importPath: ${entry} would load as CommonJS (${where}), and tsserve is an ES module: ` +
      `add "type": "module" to ${pkg === undefined ? "a package.json beside it" : "that package.json"} ` +
      `(\`tsserve init\` writes one), or rename the file to ${entry.slice(0, -ext.length)}.m${ext.slice(1)}`,
  );
}

/** Adds the CommonJS hint to Node's bare "Cannot require() ES Module" error, else returns "". */
export function commonJsHint(message: string): string {
  return /Cannot require\(\) ES Module|require\(\) of ES Module|ERR_REQUIRE_ESM/.test(message)
    ? ' (a file of the app is loaded as CommonJS: add "type": "module" to the package.json of its folder)'
    : "";
}
