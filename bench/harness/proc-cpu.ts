import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of processes read from `/proc/<pid>/stat` (utime + stime), so one number covers the
 * client, every replica and the nats-server over exactly the measured window. Linux only: elsewhere
 * every reading is null and the suites print "n/a".
 */

let ticksPerSecond: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime in clock ticks from the text of a `/proc/<pid>/stat` file. The command name (field
 * 2) may contain spaces and parentheses, so fields are counted after the last ")".
 */
export function parseStatTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(stat.slice(0, 80))}`);
  // After ")": field 3 (state) is index 0, so utime (field 14) is index 11 and stime index 12.
  const fields = stat.slice(close + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error("malformed /proc stat: utime/stime not numbers");
  return utime + stime;
}

/** The pids of `pid`'s live children (all threads), from `/proc/<pid>/task/<tid>/children`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text) for (const c of text.split(" ")) out.push(Number(c));
    }
  } catch {
    // The process exited or the kernel lacks the file: no children to add.
  }
  return out;
}

/**
 * CPU seconds used so far by `pid` and, with `withChildren`, its live descendants (a replica started
 * through a wrapper still counts its real worker). Null when the process is gone or /proc is missing.
 */
export function cpuSeconds(pid: number, withChildren = true): number | null {
  let ticks: number;
  try {
    ticks = parseStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
  if (withChildren)
    for (const c of childrenOf(pid)) ticks += (cpuSeconds(c, true) ?? 0) * clockTicksPerSecond();
  return ticks / clockTicksPerSecond();
}

/** Named groups of pids whose CPU a bench attributes separately (client, replicas, nats-server). */
export type PidGroups = Record<string, number[]>;

/** CPU seconds per group between {@link CpuWindow.start} and {@link CpuWindow.stop}; null if unreadable. */
export type CpuByGroup = Record<string, number | null>;

/** A measuring window over groups of processes. */
export interface CpuWindow {
  /** Ends the window and returns the CPU seconds each group used inside it. */
  stop(): CpuByGroup;
}

/**
 * Opens a CPU window over `groups`, reading each pid with `readPid` now and again on `stop()`.
 * A group is null when any of its pids could not be read at either end.
 */
export function cpuWindowOf(groups: PidGroups, readPid: (pid: number) => number | null): CpuWindow {
  const read = (): CpuByGroup => {
    const out: CpuByGroup = {};
    for (const [name, pids] of Object.entries(groups)) {
      let sum: number | null = pids.length ? 0 : null;
      for (const pid of pids) {
        const s = readPid(pid);
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
        out[name] = a === null || a === undefined || b === null || b === undefined ? null : a - b;
      }
      return out;
    },
  };
}

/**
 * Opens a CPU window: reads every pid now, and again on `stop()`; a pid counts its descendants
 * unless it is the bench process or listed in `selfOnly`. A group is null when any of its
 * pids could not be read at either end (e.g. a remote nats-server has no pid here).
 */
export function startCpuWindow(groups: PidGroups, selfOnly: readonly number[] = []): CpuWindow {
  // The bench process is the parent of local replicas and nats-server: count only itself
  // (and the `selfOnly` pids, parents whose children are counted in groups of their own).
  return cpuWindowOf(groups, (pid) => cpuSeconds(pid, pid !== process.pid && !selfOnly.includes(pid)));
}
