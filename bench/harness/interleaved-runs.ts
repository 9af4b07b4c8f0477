import { runClosedLoop } from "./closed-loop.js";
import { startCpuWindow, type PidGroups } from "./proc-cpu.js";
import { coefficientOfVariation, percentiles, type Percentiles } from "./stats.js";

/** One way of making the same call (raw NATS, a handle with router X…). */
export interface Mode {
  name: string;
  call: (worker: number, seq: number) => PromiseLike<unknown>;
  /**
   * Callers of this mode, instead of the run's `concurrency`: two points of one curve measured
   * side by side (the same mode at 64 and at 4,096 callers), so load that changes over minutes
   * does not land on one point only.
   */
  concurrency?: number;
}

/** Options of {@link measureInterleaved}. */
export interface InterleavedOptions {
  concurrency: number;
  /** Slices per mode; the modes take turns slice by slice. */
  rounds: number;
  /** Length of one measured slice, ms. */
  sliceMs: number;
  /** Unmeasured warm-up per mode before the first slice (JIT, connections, queue-length cache). */
  warmupMs: number;
  /**
   * Unmeasured load right before each slice. A mode idle while the others took their turns starts
   * its slice slow (measured in the ingress suite: every mode's first 200–500 ms after 10 s idle
   * ran at 30–60 % of its rate, longer for more processes); that ramp is not the steady state the
   * ratios compare. @default 0
   */
  sliceWarmupMs?: number;
  /** Processes whose CPU is charged to the calls (client, replicas, server). */
  cpuGroups: PidGroups;
  /** Pids in `cpuGroups` counted without their descendants (see `startCpuWindow`). @default [] */
  cpuSelfOnly?: readonly number[];
}

/** One mode's totals over all its slices. */
export interface ModeMeasurement {
  mode: string;
  ok: number;
  errors: Record<string, number>;
  /** Measured wall time, ms (sum of slices). */
  elapsedMs: number;
  throughput: number;
  latencyUs: Percentiles;
  /** CPU seconds per group over the measured slices; null when a group could not be read. */
  cpuSeconds: Record<string, number | null>;
  /** Total CPU per successful call, µs (null when any group is unreadable). */
  cpuUsPerCall: number | null;
  /** Coefficient of variation of the per-slice throughputs: how noisy the machine was. */
  sliceCv: number;
  /**
   * Each slice's req/s in round order. Slice k of two modes ran next to each other, so their
   * ratio is little touched by load that changes over the run (see {@link pairedRatio}).
   */
  sliceThroughputs: number[];
}

/**
 * Measures several modes at one concurrency by taking turns in short slices (A B C A B C …), so a
 * change in background load (a shared machine) hits every mode alike instead of skewing whichever
 * ran last. CPU is read from /proc around each slice only, so warm-up and switching are excluded.
 */
export async function measureInterleaved(
  modes: readonly Mode[],
  opts: InterleavedOptions,
): Promise<ModeMeasurement[]> {
  const acc = modes.map(() => ({
    ok: 0,
    errors: {} as Record<string, number>,
    elapsedMs: 0,
    lat: [] as Float64Array[],
    slices: [] as number[],
    cpu: {} as Record<string, number | null>,
  }));
  const callersOf = (m: Mode): number => m.concurrency ?? opts.concurrency;
  for (const m of modes)
    await runClosedLoop(m.call, { concurrency: callersOf(m), durationMs: opts.warmupMs });
  for (let round = 0; round < opts.rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const a = acc[i]!;
      if ((opts.sliceWarmupMs ?? 0) > 0)
        await runClosedLoop(modes[i]!.call, {
          concurrency: callersOf(modes[i]!),
          durationMs: opts.sliceWarmupMs,
        });
      const window = startCpuWindow(opts.cpuGroups, opts.cpuSelfOnly);
      const r = await runClosedLoop(modes[i]!.call, {
        concurrency: callersOf(modes[i]!),
        durationMs: opts.sliceMs,
      });
      const cpu = window.stop();
      a.ok += r.ok;
      a.elapsedMs += r.elapsedMs;
      a.lat.push(r.latenciesUs);
      a.slices.push(r.throughput);
      for (const [k, v] of Object.entries(r.errors)) a.errors[k] = (a.errors[k] ?? 0) + v;
      for (const [g, v] of Object.entries(cpu)) {
        const prev = round === 0 ? 0 : a.cpu[g];
        a.cpu[g] = prev === null || prev === undefined || v === null ? null : prev + v;
      }
    }
  }
  return modes.map((m, i) => {
    const a = acc[i]!;
    const all = new Float64Array(a.lat.reduce((n, l) => n + l.length, 0));
    let off = 0;
    for (const l of a.lat) {
      all.set(l, off);
      off += l.length;
    }
    const groups = Object.values(a.cpu);
    const total = groups.some((v) => v === null) ? null : groups.reduce<number>((s, v) => s + (v ?? 0), 0);
    return {
      mode: m.name,
      ok: a.ok,
      errors: a.errors,
      elapsedMs: a.elapsedMs,
      throughput: (a.ok * 1000) / a.elapsedMs,
      latencyUs: percentiles(all),
      cpuSeconds: a.cpu,
      cpuUsPerCall: total === null || a.ok === 0 ? null : (total * 1e6) / a.ok,
      sliceCv: coefficientOfVariation(a.slices),
      sliceThroughputs: a.slices,
    };
  });
}

/**
 * The median over rounds of `a`'s slice req/s ÷ `b`'s in the same round: a ratio of two modes that
 * a burst of background load in one round (a shared machine) moves much less than the ratio of
 * their totals does.
 */
export function pairedRatio(a: ModeMeasurement, b: ModeMeasurement): number {
  const n = Math.min(a.sliceThroughputs.length, b.sliceThroughputs.length);
  const ratios = Array.from({ length: n }, (_, k) => a.sliceThroughputs[k]! / b.sliceThroughputs[k]!);
  ratios.sort((x, y) => x - y);
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? ratios[(n - 1) / 2]! : (ratios[n / 2 - 1]! + ratios[n / 2]!) / 2;
}
