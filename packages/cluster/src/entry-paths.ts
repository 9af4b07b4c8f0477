import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigError, TSSERVE_ENV } from "@tsserve/protocol";
import { controllerEntryPath } from "@tsserve/controller/internal";

/**
 * Paths of the built scripts that cluster processes run, and the node flags that preload the parent
 * watch. Processes always run built JavaScript, also when these are called from TypeScript sources
 * under a test loader (from src/x.ts the built tree is ../dist/).
 */

function built(fromDist: string): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith(".ts") ? `../dist/${fromDist}` : `./${fromDist}`, here));
}

/** Absolute path of the built agent process entry (`dist/agent-main.js`). */
export function agentEntryPath(): string {
  return built("agent-main.js");
}

/** The built controller entry, or a ConfigError saying to build it (clearer than node's failure). */
export function controllerEntry(): string {
  const path = controllerEntryPath();
  if (!existsSync(path))
    throw new ConfigError(`controller entry ${path} does not exist: build it with \`pnpm build\``);
  return path;
}

/** Environment variable read by the preload: ms between its SIGTERM and a hard exit. @default 30000 */
export const PARENT_WATCH_GRACE_ENV = TSSERVE_ENV.parentWatchGraceMs;
/** Environment variable read (and removed) by the preload: the pid its parent must have. */
export const PARENT_PID_ENV = TSSERVE_ENV.parentPid;
/** Environment variable copied to every child, replicas included, to find leaked processes. */
export const RUN_MARKER_ENV = TSSERVE_ENV.runMarker;

/** Absolute path of the built parent-watch preload (see parent-watch-preload.ts). */
export function parentWatchPath(): string {
  return built("parent-watch-preload.js");
}

/** Node CLI flag that preloads the parent watch; put it before the entry script. */
export function parentWatchNodeArg(): string {
  return `--import=${pathToFileURL(parentWatchPath()).href}`;
}

/**
 * `existing` NODE_OPTIONS plus the preload, for children spawned by code we do not control (the
 * replica launcher takes an env, not node flags). Grandchildren inherit it and watch their own parent.
 */
export function nodeOptionsWithParentWatch(existing = process.env["NODE_OPTIONS"] ?? ""): string {
  const flag = `--import=${JSON.stringify(pathToFileURL(parentWatchPath()).href)}`;
  return existing.includes(flag) ? existing : `${existing} ${flag}`.trim();
}
