import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Where the local head's state directory (`.tsserve/`) is, found like git finds `.git/`, so every
 * command works from any subfolder of an app:
 *
 * 1. `--state-dir DIR`, else `$TSSERVE_STATE_DIR`, relative to the current directory;
 * 2. a head (`start`, `run`) writes `.tsserve/` at the **project root**: the nearest folder, from
 *    the current one upwards, that holds `.tsserve/`, `serve.yaml` or `package.json` (the current
 *    folder when none does);
 * 3. every other command reads the nearest `.tsserve/` upwards that holds an address file, else
 *    the nearest `.tsserve/` at all, else the project root's (whose absence the error names).
 */

/** Where a local head keeps its files when nothing else is said. */
export const DEFAULT_STATE_DIR = ".tsserve";
/** Environment variable naming the state directory when `--state-dir` is absent. */
export const STATE_DIR_ENV = "TSSERVE_STATE_DIR";
/** Files that mark a project root (besides an existing `.tsserve/`). */
const ROOT_MARKERS = ["serve.yaml", "serve.yml", "package.json"];

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** `dir` and each of its parents up to the filesystem root. */
function* upwards(dir: string): Generator<string> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    yield d;
    if (dirname(d) === d) return;
  }
}

/** `--state-dir` or `$TSSERVE_STATE_DIR` made absolute, or undefined when neither is set. */
function explicitStateDir(flag: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const given = flag !== undefined && flag !== "" ? flag : env[STATE_DIR_ENV];
  return given !== undefined && given !== "" ? resolve(cwd, given) : undefined;
}

/** The nearest folder upwards holding `.tsserve/`, serve.yaml or package.json; else `cwd`. */
export function projectRoot(cwd = process.cwd()): string {
  for (const d of upwards(cwd)) {
    if (isDir(join(d, DEFAULT_STATE_DIR))) return d;
    if (ROOT_MARKERS.some((m) => existsSync(join(d, m)))) return d;
  }
  return resolve(cwd);
}

/** The state directory a head started from `cwd` writes (rule 2). */
export function stateDirForHead(
  flag: string | undefined,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  return explicitStateDir(flag, cwd, env) ?? join(projectRoot(cwd), DEFAULT_STATE_DIR);
}

/** The state directory a command run from `cwd` reads (rule 3). */
export function findStateDir(
  flag: string | undefined,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const explicit = explicitStateDir(flag, cwd, env);
  if (explicit !== undefined) return explicit;
  let nearest: string | undefined;
  for (const d of upwards(cwd)) {
    const candidate = join(d, DEFAULT_STATE_DIR);
    if (!isDir(candidate)) continue;
    if (existsSync(join(candidate, "address"))) return candidate;
    nearest ??= candidate;
  }
  return nearest ?? join(projectRoot(cwd), DEFAULT_STATE_DIR);
}
