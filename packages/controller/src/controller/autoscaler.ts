import type { ResolvedAutoscaling } from "@tsserve/protocol/internal";
import type { ControllerCore } from "./core.js";
import { depKey } from "./types.js";

/** Handle metrics older than this are ignored (a handle that vanished without a final zero). */
const HANDLE_METRICS_STALE_MS = 3000;

/** Per-deployment memory of the autoscaling policy. */
interface ScalerState {
  /** (time, total ongoing+queued) samples within the look-back window. */
  samples: { at: number; total: number }[];
  /** Local ms since when the policy has wanted more (or fewer) replicas; undefined = not. */
  upSince: number | undefined;
  downSince: number | undefined;
  handles: Map<string, { load: number; at: number }>;
}

/** Input of one autoscaling decision. */
export interface ScaleInput {
  config: ResolvedAutoscaling;
  /** The current target replica count. */
  current: number;
  /** Sum of `ongoing` over the deployment's replicas (from heartbeats). */
  replicaOngoing: number;
  now: number;
}

/**
 * Ray Serve's default autoscaling policy: desired = ceil(load / targetOngoingRequests), clamped to
 * [min, max], applied only once it has held for upscaleDelay (or downscaleDelay); a change of
 * direction restarts the wait. Load = queued + in-flight from handle metrics (or the replicas' own
 * ongoing counts when they report more), averaged over the look-back window.
 */
export class Autoscaler {
  private readonly state = new Map<string, ScalerState>();

  private of(key: string): ScalerState {
    let s = this.state.get(key);
    if (!s) {
      s = { samples: [], upSince: undefined, downSince: undefined, handles: new Map() };
      this.state.set(key, s);
    }
    return s;
  }

  /** Records a handle's report (`queued + inFlight`). */
  recordHandle(key: string, handleId: string, load: number, now: number): void {
    this.of(key).handles.set(handleId, { load, at: now });
  }

  /** Forgets a deployment (deleted) or all state (lost leadership). */
  forget(key?: string): void {
    if (key === undefined) this.state.clear();
    else this.state.delete(key);
  }

  /** Returns the new target replica count (equal to `current` when nothing should change yet). */
  decide(key: string, input: ScaleInput): number {
    const { config, current, now } = input;
    const s = this.of(key);
    let handleLoad = 0;
    for (const [id, h] of s.handles) {
      if (now - h.at > HANDLE_METRICS_STALE_MS) s.handles.delete(id);
      else handleLoad += h.load;
    }
    // Handles see queued requests that replicas cannot; replicas see callers that publish no metrics.
    s.samples.push({ at: now, total: Math.max(handleLoad, input.replicaOngoing) });
    const windowStart = now - config.lookBackPeriodMs;
    while (s.samples.length > 1 && s.samples[0]!.at < windowStart) s.samples.shift();
    const avg = s.samples.reduce((sum, x) => sum + x.total, 0) / s.samples.length;

    let desired = Math.ceil(avg / config.targetOngoingRequests - 1e-9);
    desired = Math.min(config.maxReplicas, Math.max(config.minReplicas, desired));
    // Ray keeps at least one replica while scaling down, except for the final 1 → 0 step.
    if (desired === 0 && current > 1) desired = Math.max(1, config.minReplicas);
    // Cold start: with no replicas and waiting requests, scale up at once.
    if (current === 0 && avg > 0) return Math.max(1, desired);

    if (desired > current) {
      s.downSince = undefined;
      s.upSince ??= now;
      if (now - s.upSince >= config.upscaleDelayMs) {
        s.upSince = undefined;
        return desired;
      }
    } else if (desired < current) {
      s.upSince = undefined;
      s.downSince ??= now;
      if (now - s.downSince >= config.downscaleDelayMs) {
        s.downSince = undefined;
        return desired;
      }
    } else {
      s.upSince = undefined;
      s.downSince = undefined;
    }
    return current;
  }
}

/** One autoscaling pass over every autoscaled deployment: sets each one's target. */
export function autoscalePass(core: ControllerCore, autoscaler: Autoscaler, now: number): void {
  for (const d of core.desired.deployments.values()) {
    const config = d.spec.config.autoscaling;
    if (!config || d.deleting) continue;
    const replicas = core.table.ofDeployment(d.app, d.name);
    const replicaOngoing = replicas.filter((r) => r.state === "RUNNING").reduce((s, r) => s + r.ongoing, 0);
    const next = autoscaler.decide(depKey(d.app, d.name), { config, current: d.target, replicaOngoing, now });
    if (next !== d.target) {
      core.log(`autoscaling ${depKey(d.app, d.name)}: ${d.target} → ${next} replicas`);
      d.target = next;
    }
  }
}
