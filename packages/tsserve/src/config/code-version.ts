import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

// Relative specifiers in static imports/exports (`from "./x"`), side-effect imports
// (`import "./x"`) and dynamic imports with a literal (`import("./x")`). Bare specifiers
// (packages) are deliberately not followed: their versions belong to the lockfile, not the app.
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"'\n]+)["']/g;

const SOURCE_EXTS = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"];

/** Maps an import specifier to the file on disk, following TypeScript's `.js` → `.ts` convention. */
function resolveLocal(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
  const candidates = [base];
  const js = /\.(m|c)?js$/.exec(base);
  if (js) {
    const stem = base.slice(0, -js[0].length);
    candidates.push(`${stem}.${js[1] ?? ""}ts`, `${stem}.tsx`);
  }
  for (const ext of SOURCE_EXTS) candidates.push(base + ext);
  for (const ext of SOURCE_EXTS) candidates.push(resolve(base, `index${ext}`));
  return candidates.find(isFile);
}

/** The entry file and every local file it imports, transitively; sorted, absolute paths. */
export function localSourceFiles(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith(".json")) continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT_RE)) {
      const dep = resolveLocal(file, m[1]!);
      if (dep !== undefined && !dep.includes(`${"/"}node_modules/`)) queue.push(dep);
    }
  }
  return [...seen].sort();
}

/**
 * A version of an application's code: sha256 over the entry module and every local file it
 * imports (relative specifiers only, followed transitively; packages are not hashed), each keyed by
 * its path relative to `root` so that moving the project does not change the version. The
 * controller rolls replicas over when it changes. Short (16 hex digits) for readable status output.
 */
export function codeVersion(entry: string, root: string): string {
  const h = createHash("sha256");
  for (const file of localSourceFiles(entry)) {
    h.update(relative(root, file));
    h.update("\0");
    h.update(readFileSync(file));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}
