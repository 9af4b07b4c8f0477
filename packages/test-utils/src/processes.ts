import { readdirSync, readFileSync } from "node:fs";

/**
 * Linux process inspection for tests that kill processes at awkward moments and then check what
 * is left: children of a pid, a process's environment, liveness. Reads /proc only.
 */

/** Whether a process with this pid exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return statState(stat) !== "Z";
  } catch {
    return false;
  }
}

function statState(stat: string): string {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "";
}

/** The parent pid of a process, or undefined if it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Every live pid on the machine (this namespace). */
export function allPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The direct children of `pid`. */
export function childPids(pid: number): number[] {
  return allPids().filter((p) => parentPid(p) === pid && processAlive(p));
}

/** The environment a process was started with (empty when it is gone or unreadable). */
export function processEnv(pid: number): Record<string, string> {
  try {
    const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
    const out: Record<string, string> = {};
    for (const entry of raw.split("\0")) {
      const i = entry.indexOf("=");
      if (i > 0) out[entry.slice(0, i)] = entry.slice(i + 1);
    }
    return out;
  } catch {
    return {};
  }
}

/** The command line of a process ("" when it is gone). */
export function processCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
