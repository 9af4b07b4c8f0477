import { DeploymentNotFoundError } from "@tsserve/protocol";
import { isPlainObject, requireEmptyMap, type HandleMetrics } from "@tsserve/protocol/internal";
import type { Autoscaler } from "./autoscaler.js";
import type { ApiHost } from "./core.js";
import type { ControllerHandlers } from "./controller-server.js";
import { ensureSessionBuckets } from "./session-buckets.js";
import { buildStatusReport } from "./status-report.js";
import { depKey } from "./types.js";
import { validateDeleteRequest, validateDeployRequest, validateMembersRequest } from "./validate-request.js";

/** How long `ctl.shutdown` waits for replicas to drain beyond their own graceful timeout. */
const SHUTDOWN_SLACK_MS = 5000;

/**
 * The controller API (`ctl.*`) and handle metrics: the parts of the controller that turn requests
 * and metrics into desired-state changes. Depends on the {@link ApiHost} interface only.
 */
export class ApiHandlers {
  private shuttingDown = false;

  constructor(
    private readonly ctl: ApiHost,
    private readonly autoscaler: Autoscaler,
  ) {}

  /**
   * The `ctl.<op>` handlers, served only by the leader once it has restored its checkpoint (the
   * subscriptions are made then). `deploy`, `delete` and `status` answer during recovery: a
   * deploy or delete changes only the desired state, which the reconcile loop acts on once
   * recovery is over, and status says `recovering`; so a standby that took over answers as soon
   * as it leads, not a recovery window later. `members` and `shutdown` wait for recovery: a
   * replica set must not list replicas recovery may still drop, and shutdown drains what
   * recovery adopted.
   */
  handlers(): ControllerHandlers {
    const c = this.ctl;
    return {
      deploy: async (body) => {
        const req = validateDeployRequest(body);
        await ensureSessionBuckets(c, req.applications);
        const changed = c.desired.apply(req.applications);
        if (changed.length > 0) c.log(`deploy: ${changed.join(", ")} changed`);
        for (const key of changed) {
          const d = c.desired.deployments.get(key);
          if (d) c.membershipChanged(d.app, d.name);
        }
        c.tick();
        return null;
      },
      delete: async (body) => {
        const { app } = validateDeleteRequest(body);
        c.desired.markDeleted(app);
        c.log(`delete: application ${app} is draining`);
        c.tick();
        return null;
      },
      status: async () => buildStatusReport(c),
      members: async (body) => {
        const { app, deployment } = validateMembersRequest(body);
        await c.whenReady();
        const d = c.desired.live(app, deployment);
        if (!d) {
          const known = [...c.desired.deployments.values()]
            .filter((x) => !x.deleting)
            .map((x) => depKey(x.app, x.name));
          throw new DeploymentNotFoundError(
            `deployment ${JSON.stringify(deployment)} of application ${JSON.stringify(app)} is not deployed; deployed: ${known.length ? known.join(", ") : "(none)"}`,
            { data: { app, deployment } },
          );
        }
        return c.snapshotOf(d);
      },
      shutdown: async (body) => {
        requireEmptyMap("ctl.shutdown", body);
        await c.whenReady();
        if (!this.shuttingDown) {
          this.shuttingDown = true;
          // Reply at once (clients have short deadlines); drain and exit in the background.
          setImmediate(() => void this.shutdownAll());
        }
        return null;
      },
    };
  }

  /** Drains every application, stops every agent, clears the checkpoint, then exits. */
  private async shutdownAll(): Promise<void> {
    const c = this.ctl;
    c.log("shutdown: draining every application");
    let graceMs = 0;
    for (const d of c.desired.deployments.values())
      graceMs = Math.max(graceMs, d.spec.config.gracefulShutdownTimeoutMs);
    for (const app of [...c.desired.apps.keys()]) {
      try {
        c.desired.markDeleted(app);
      } catch {
        // already deleting
      }
    }
    c.tick();
    const deadline = Date.now() + graceMs + SHUTDOWN_SLACK_MS;
    while (c.table.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (c.table.size > 0) c.log(`shutdown: ${c.table.size} replicas did not report their exit in time`);
    const nodes = [...c.nodes.keys()];
    await Promise.all(
      nodes.map((n) =>
        c.agentActions
          ?.shutdown(n)
          .catch((e: unknown) => c.log(`agent ${n} shutdown: ${(e as Error).message}`)),
      ),
    );
    await c
      .clearCheckpoint()
      .catch((e: unknown) => c.log(`could not clear the checkpoint: ${(e as Error).message}`));
    c.log(`shutdown: done (${nodes.length} agents stopped); exiting`);
    await c.exitAfterShutdown();
  }

  /** Records one HandleMetrics message for the autoscaler. */
  onHandleMetrics(body: unknown): void {
    if (!isPlainObject(body) || typeof body["handleId"] !== "string" || typeof body["app"] !== "string") {
      this.ctl.rejectMessage(`dropping malformed handle metrics: ${JSON.stringify(body)?.slice(0, 200)}`);
      return;
    }
    const m = body as unknown as HandleMetrics;
    const load = (Number(m.queued) || 0) + (Number(m.inFlight) || 0);
    this.autoscaler.recordHandle(depKey(m.app, m.deployment), m.handleId, load, Date.now());
  }
}
