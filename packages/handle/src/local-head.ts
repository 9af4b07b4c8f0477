import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UnavailableError } from "@tsserve/protocol";
import { ADDRESS_ENV } from "./options.js";

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
 *
 * Shared by the CLI (`tsserve …`) and `connect()`, so a bare client finds the same head as the
 * commands do (even when `tsserve start` moved NATS off a taken 4222).
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

/** File holding the head's NATS address as one line (its presence means "the head is ready"). */
export const ADDRESS_FILE = "address";
/** File describing the running head process (pids, ports, prefix): `HeadRecord` of the CLI. */
export const HEAD_FILE = "head-process.json";

/** Reads `<dir>/address`, or undefined when there is none (or it is empty). */
export function readAddressFile(dir: string): string | undefined {
  const file = join(dir, ADDRESS_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8").trim();
  return text.length > 0 ? text : undefined;
}

/** The subject prefix the head in `dir` recorded, or undefined (no record, or unreadable). */
export function readHeadPrefix(dir: string): string | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(dir, HEAD_FILE), "utf8")) as { prefix?: unknown };
    return typeof rec.prefix === "string" ? rec.prefix : undefined;
  } catch {
    return undefined;
  }
}

/** Where a client's cluster address came from (`source` says it in words, for errors and logs). */
export interface FoundAddress {
  address: string;
  /** `"options.address"`, `"TSSERVE_ADDRESS"` or the address file's path. */
  source: string;
  /** The head's recorded prefix, when the address came from its state directory. */
  headPrefix?: string;
}

/**
 * The cluster address as every tsserve program finds it: `given`, else `$TSSERVE_ADDRESS`, else
 * the local head's `<state-dir>/address` (rule 3 from `cwd`); undefined when there is none.
 */
export function findClusterAddress(
  given: { address?: string | undefined; source: string },
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
  stateDirFlag?: string,
): FoundAddress | undefined {
  if (given.address !== undefined && given.address !== "")
    return { address: given.address, source: given.source };
  const fromEnv = env[ADDRESS_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return { address: fromEnv, source: ADDRESS_ENV };
  const dir = findStateDir(stateDirFlag, cwd, env);
  const address = readAddressFile(dir);
  if (address === undefined) return undefined;
  const headPrefix = readHeadPrefix(dir);
  return { address, source: join(dir, ADDRESS_FILE), ...(headPrefix === undefined ? {} : { headPrefix }) };
}

/**
 * The address `connect()` uses: {@link findClusterAddress} from `cwd`, or an UnavailableError that
 * says every place it looked. There is no fallback to nats://127.0.0.1:4222: `tsserve start` moves
 * NATS off a taken 4222, and a bare client must not join whatever else listens there.
 */
export function clientAddress(address: string | undefined, cwd = process.cwd()): FoundAddress {
  const found = findClusterAddress({ address, source: "options.address" }, cwd);
  if (found !== undefined) return found;
  throw new UnavailableError(
    `no tsserve cluster address: pass connect({ address: "nats://host:4222" }), set ${ADDRESS_ENV}, ` +
      `or start a local head with \`tsserve start\` (no .tsserve/address in ${resolve(cwd)} or any folder above it)`,
  );
}
