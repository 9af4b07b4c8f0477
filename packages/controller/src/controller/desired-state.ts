import { DeploymentNotFoundError } from "@tsserve/protocol";
import { type ApplicationSpec, type DeploymentSpec } from "@tsserve/protocol/internal";
import type { ApplicationRecord, DeploymentRecord } from "./types.js";
import { depKey } from "./types.js";

/** JSON with object keys sorted, so equal configs give equal strings whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * What a replica is started with, except its count. Changing numReplicas or the autoscaling
 * bounds leaves this unchanged (scale in place); anything else changes it (rolling update).
 */
export function versionKeyOf(app: ApplicationSpec, spec: DeploymentSpec): string {
  const { numReplicas: _n, autoscaling: _a, ...rest } = spec.config;
  return stableStringify({
    codeVersion: spec.codeVersion,
    importPath: app.importPath,
    cwd: app.cwd,
    config: rest,
  });
}

/** The replica count a deployment spec asks for, given the current target (autoscaled or not). */
export function initialTarget(spec: DeploymentSpec, current: number | undefined): number {
  const a = spec.config.autoscaling;
  if (!a) return spec.config.numReplicas;
  if (current === undefined) return a.initialReplicas;
  return Math.min(a.maxReplicas, Math.max(a.minReplicas, current));
}

/** Applications and their deployments: what the user asked for. */
export class DesiredState {
  readonly apps = new Map<string, ApplicationRecord>();
  readonly deployments = new Map<string, DeploymentRecord>();

  /**
   * Upserts applications (idempotent). Returns the keys of deployments whose spec changed, so the
   * caller can checkpoint and log. Deployments dropped from an application are marked deleting.
   */
  apply(applications: ApplicationSpec[]): string[] {
    const changed: string[] = [];
    for (const app of applications) {
      this.apps.set(app.name, { spec: app, deleting: false });
      const names = new Set(app.deployments.map((d) => d.config.name));
      for (const d of this.deployments.values()) {
        if (d.app === app.name && !names.has(d.name) && !d.deleting) {
          d.deleting = true;
          changed.push(depKey(d.app, d.name));
        }
      }
      for (const spec of app.deployments) {
        const key = depKey(app.name, spec.config.name);
        const old = this.deployments.get(key);
        const versionKey = versionKeyOf(app, spec);
        // An UNHEALTHY deployment deployed again is tried again, even with the same spec (the
        // cause may have been outside the code: a missing file, an environment variable).
        if (
          old &&
          !old.deleting &&
          old.unhealthy === null &&
          stableStringify(old.spec) === stableStringify(spec) &&
          old.versionKey === versionKey
        ) {
          continue;
        }
        const sameVersion = old !== undefined && old.versionKey === versionKey && !old.deleting;
        this.deployments.set(key, {
          app: app.name,
          name: spec.config.name,
          spec,
          versionKey,
          target: initialTarget(
            spec,
            old && !old.deleting && old.spec.config.autoscaling ? old.target : undefined,
          ),
          // A new version gets a fresh crash-loop budget; a pure scale change keeps the count.
          failures: sameVersion && old.unhealthy === null ? old.failures : 0,
          backoffUntil: sameVersion && old.unhealthy === null ? old.backoffUntil : 0,
          unhealthy: null,
          lastError: sameVersion ? old.lastError : "",
          deleting: false,
          readyOnce: sameVersion ? (old.readyOnce ?? false) : false,
          restarts: sameVersion ? (old.restarts ?? 0) : 0,
        });
        changed.push(key);
      }
    }
    return changed;
  }

  /** Marks an application and its deployments for draining; unknown → DEPLOYMENT_NOT_FOUND. */
  markDeleted(appName: string): void {
    const app = this.apps.get(appName);
    if (!app || app.deleting) {
      const known = [...this.apps.values()].filter((a) => !a.deleting).map((a) => a.spec.name);
      throw new DeploymentNotFoundError(
        `application ${JSON.stringify(appName)} is not deployed; deployed applications: ${known.length ? known.join(", ") : "(none)"}`,
      );
    }
    app.deleting = true;
    for (const d of this.deployments.values()) if (d.app === appName) d.deleting = true;
  }

  /** Forgets a deployment (its replicas are gone) and its application once it has none left. */
  forget(key: string): void {
    const d = this.deployments.get(key);
    if (!d) return;
    this.deployments.delete(key);
    const app = this.apps.get(d.app);
    if (app?.deleting && ![...this.deployments.values()].some((x) => x.app === d.app))
      this.apps.delete(d.app);
  }

  /** A live (not deleting) deployment, or undefined. */
  live(app: string, deployment: string): DeploymentRecord | undefined {
    const d = this.deployments.get(depKey(app, deployment));
    return d && !d.deleting ? d : undefined;
  }

  /** Forgets everything. */
  clear(): void {
    this.apps.clear();
    this.deployments.clear();
  }
}
