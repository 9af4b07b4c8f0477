import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { ConfigError } from "@tsserve/protocol";
import { build, type Plugin } from "esbuild";

/**
 * The code version of an application is a hash over the module graph its entry really imports, as
 * esbuild resolves it (the resolver Node and tsx follow): relative imports, package `#imports`,
 * tsconfig paths and workspace packages (symlinked folders outside node_modules) are all followed.
 * Installed packages (anything whose real path lies in a node_modules folder) are not: their
 * versions belong to the lockfile. Neither is tsserve itself (`tsserve`, `@tsserve/*`): the
 * framework is not the application, and a rebuild of it in a workspace should not roll every app.
 */

const SKIP = Symbol("tsserve-code-version-resolving");
const FRAMEWORK = /^(tsserve|@tsserve\/[^/]+)(\/|$)/;
const NODE_MODULES = `${sep}node_modules${sep}`;

/** Marks installed packages, tsserve and builtins external; follows everything else. */
const applicationOnly: Plugin = {
  name: "tsserve-application-only",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === SKIP || args.kind === "entry-point") return undefined;
      if (FRAMEWORK.test(args.path)) return { path: args.path, external: true };
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: SKIP,
      });
      // An import that does not resolve fails when the replica imports it, with Node's message;
      // the version need not fail first.
      if (r.errors.length > 0 || r.external || r.namespace !== "file" || r.path.includes(NODE_MODULES)) {
        return { path: args.path, external: true };
      }
      return { path: r.path };
    });
  },
};

/** The entry file and every application file it imports, transitively; sorted, absolute paths. */
export async function localSourceFiles(entry: string): Promise<string[]> {
  const abs = resolve(entry);
  let metafile;
  try {
    ({ metafile } = await build({
      entryPoints: [abs],
      absWorkingDir: dirname(abs),
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      logLevel: "silent",
      plugins: [applicationOnly],
      // Assets a module imports are hashed as bytes, whatever their extension.
      loader: { ".node": "empty", ".wasm": "binary", ".txt": "text", ".md": "text", ".html": "text" },
    }));
  } catch (e) {
    const first = (e as { errors?: { text: string }[] }).errors?.[0]?.text ?? (e as Error).message;
    throw new ConfigError(`cannot read the module graph of ${entry}: ${first}`, { cause: e });
  }
  const files = Object.keys(metafile.inputs).map((p) => (isAbsolute(p) ? p : resolve(dirname(abs), p)));
  return [...new Set(files)].sort();
}

/**
 * A version of an application's code: sha256 over the files of {@link localSourceFiles}, each keyed
 * by its path relative to `root` so that moving the project does not change the version. The
 * controller rolls replicas over when it changes; `force` mixes in a fresh nonce so that a deploy
 * rolls them anyway (`tsserve deploy --force`, for changes the graph cannot see, e.g. a file read
 * at run time). Short (16 hex digits) for readable status output.
 */
export async function codeVersion(entry: string, root: string, force = false): Promise<string> {
  const h = createHash("sha256");
  for (const file of await localSourceFiles(entry)) {
    h.update(relative(root, file));
    h.update("\0");
    h.update(readFileSync(file));
    h.update("\0");
  }
  if (force) h.update(randomUUID());
  return h.digest("hex").slice(0, 16);
}
