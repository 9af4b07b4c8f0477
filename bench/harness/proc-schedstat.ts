import { readdirSync, readFileSync } from "node:fs";
import { cpuWindowOf, type CpuWindow, type PidGroups } from "./proc-cpu.js";

/**
 * CPU time with nanosecond resolution from `/proc/<pid>/task/<tid>/schedstat` (its first field is
 * the time the thread ran, ns), summed over the process's threads. utime+stime in `/proc/<pid>/stat`
 * count 10 ms ticks, too coarse for costs of a few milliseconds a second (membership broadcasts).
 * Threads that exited inside a window are not counted; a Node process keeps its threads. Linux only:
 * elsewhere every reading is null.
 */
export function cpuSecondsPrecise(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const field = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0];
      const v = Number(field);
      if (!Number.isFinite(v)) return null;
      ns += v;
    }
    return ns / 1e9;
  } catch {
    return null;
  }
}

/** Like `startCpuWindow`, with {@link cpuSecondsPrecise}: each process itself, not its children. */
export function startPreciseCpuWindow(groups: PidGroups): CpuWindow {
  return cpuWindowOf(groups, cpuSecondsPrecise);
}
