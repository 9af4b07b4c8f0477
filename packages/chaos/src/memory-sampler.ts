import { readFileSync } from "node:fs";

/** Resident set size of a process in KiB (VmRSS from /proc), or null when it is gone. */
export function rssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** One process's memory over time. */
export interface MemorySeries {
  /** nats-server, controller, agent, replica, driver (this process: the handles). */
  role: string;
  pid: number;
  /** A readable name (replica id, node id…). */
  name: string;
  /** [ms since the start, RSS KiB] */
  samples: [number, number][];
}

/** Summary of one series after warm-up. */
export interface MemoryGrowth {
  role: string;
  pid: number;
  name: string;
  /** How long the process was sampled, in seconds. */
  livedS: number;
  /** Mean RSS over the first samples after warm-up, KiB. */
  afterWarmupKb: number;
  /** Mean RSS over the last samples, KiB. */
  endKb: number;
  maxKb: number;
  /** (end − afterWarmup) / afterWarmup, in percent. */
  growthPct: number;
  /** True when the process lived from the end of warm-up to the end of the run. */
  longLived: boolean;
}

/** Samples the RSS of a changing set of processes (pids come and go with faults). */
export class MemorySampler {
  private readonly series = new Map<string, MemorySeries>();
  /** Epoch ms of the first sample round (sample times count from here). */
  readonly startedAt = Date.now();

  /** Takes one sample of every process in `targets`. */
  sample(targets: { role: string; pid: number; name: string }[]): void {
    const t = Date.now() - this.startedAt;
    for (const { role, pid, name } of targets) {
      const kb = rssKb(pid);
      if (kb === null) continue;
      const key = `${role}:${pid}`;
      let s = this.series.get(key);
      if (s === undefined) this.series.set(key, (s = { role, pid, name, samples: [] }));
      s.samples.push([t, kb]);
    }
  }

  /** Every series so far. */
  all(): MemorySeries[] {
    return [...this.series.values()];
  }

  /**
   * Growth of each process between warm-up and the end: mean of its first `window` samples at or
   * after `warmupMs` against the mean of its last `window` samples (means damp GC sawtooth).
   * `endMs` is when the run ended (ms since the sampler started), `samplePeriodMs` the period.
   */
  growth(warmupMs: number, endMs: number, samplePeriodMs: number, window = 3): MemoryGrowth[] {
    const out: MemoryGrowth[] = [];
    for (const s of this.series.values()) {
      const after = s.samples.filter(([t]) => t >= warmupMs);
      if (after.length < 2) continue;
      const mean = (xs: [number, number][]): number => xs.reduce((a, [, kb]) => a + kb, 0) / xs.length;
      const first = mean(after.slice(0, window));
      const last = mean(after.slice(-window));
      const firstT = s.samples[0]![0];
      const lastT = s.samples.at(-1)![0];
      out.push({
        role: s.role,
        pid: s.pid,
        name: s.name,
        livedS: Math.round((lastT - firstT) / 1000),
        afterWarmupKb: Math.round(first),
        endKb: Math.round(last),
        maxKb: Math.max(...s.samples.map(([, kb]) => kb)),
        growthPct: Math.round(((last - first) / first) * 1000) / 10,
        // Sampled before warm-up ended and in the last sampling rounds.
        longLived: firstT <= warmupMs && endMs - lastT <= 2.5 * samplePeriodMs,
      });
    }
    return out.sort((a, b) => (a.role === b.role ? a.pid - b.pid : a.role < b.role ? -1 : 1));
  }
}
