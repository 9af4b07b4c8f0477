import { fileURLToPath } from "node:url";

/**
 * Absolute path of the built controller process entry (`dist/controller-main.js`), for code that
 * spawns a controller (`startLocalCluster`, the CLI). Processes always run built JavaScript, also
 * when this is called from TypeScript sources under a test loader.
 */
export function controllerEntryPath(): string {
  const here = import.meta.url;
  return fileURLToPath(
    new URL(here.endsWith(".ts") ? "../../dist/controller-main.js" : "../controller-main.js", here),
  );
}
