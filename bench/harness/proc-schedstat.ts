import { readdirSync, readFileSync } from "node:fs";
import type { CpuByGroup, CpuWindow, PidGroups } from "./proc-cpu.js";

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
  const read = (): CpuByGroup => {
    const out: CpuByGroup = {};
    for (const [name, pids] of Object.entries(groups)) {
      let sum: number | null = pids.length ? 0 : null;
      for (const pid of pids) {
        const s = cpuSecondsPrecise(pid);
        sum = s === null || sum === null ? null : sum + s;
      }
      out[name] = sum;
    }
    return out;
  };
  const before = read();
  return {
    stop() {
      const after = read();
      const out: CpuByGroup = {};
      for (const name of Object.keys(groups)) {
        const a = after[name];
        const b = before[name];
        out[name] = a == null || b == null ? null : a - b;
      }
      return out;
    },
  };
}
