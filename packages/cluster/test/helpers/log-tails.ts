// Diagnostics for flaky waits: the last lines of a local cluster's process logs (logs: "file").
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The last `lines` lines of every log under `<stateDir>/logs` whose name starts with one of `names`. */
export function logTails(stateDir: string, names: string[] = ["controller"], lines = 60): string {
  const dir = join(stateDir, "logs");
  if (!existsSync(dir)) return "(no log directory)";
  return readdirSync(dir)
    .filter((f) => names.some((n) => f.startsWith(n)))
    .sort()
    .map((f) => `--- ${f} ---\n${readFileSync(join(dir, f), "utf8").split("\n").slice(-lines).join("\n")}`)
    .join("\n");
}
