import type { NatsConnection, Subscription } from "nats";
import { Gauge } from "prom-client";
import {
  processRegistry,
  serveMetrics,
  setProcessLabels,
  VERBS,
  decode,
  isPlainObject,
  subject,
} from "@tsserve/protocol/internal";
import {
  type ApplicationStatus,
  type DeploymentStatus,
  type ReplicaState,
  type StatusReport,
} from "@tsserve/protocol";

const REPLICA_STATES: readonly ReplicaState[] = ["STARTING", "RUNNING", "DRAINING", "STOPPED"];
const DEPLOYMENT_STATES: readonly DeploymentStatus[] = ["HEALTHY", "UPDATING", "UNHEALTHY"];
const APP_STATES: readonly ApplicationStatus[] = [
  "DEPLOYING",
  "RUNNING",
  "DEPLOY_FAILED",
  "UNHEALTHY",
  "DELETING",
];
/** A handle silent this long no longer counts toward queued requests (as the autoscaler). */
const HANDLE_STALE_MS = 10_000;

/** The series, created once per process (tests run several controllers in one process). */
function controllerGauges() {
  const registers = [processRegistry()];
  const dep = ["app", "deployment"] as const;
  const replicas = new Gauge({
    name: "tsserve_deployment_replicas",
    help: "Replicas per state, as the controller tracks them",
    labelNames: [...dep, "state"],
    registers,
  });
  const depStatus = new Gauge({
    name: "tsserve_deployment_status",
    help: "1 for a deployment's current status (HEALTHY, UPDATING, UNHEALTHY), 0 for the others",
    labelNames: [...dep, "status"],
    registers,
  });
  const appStatus = new Gauge({
    name: "tsserve_application_status",
    help: "1 for an application's current status (Ray Serve's states), 0 for the others",
    labelNames: ["app", "status"],
    registers,
  });
  const target = new Gauge({
    name: "tsserve_deployment_target_replicas",
    help: "Replicas wanted",
    labelNames: dep,
    registers,
  });
  const restarts = new Gauge({
    name: "tsserve_deployment_restarts",
    help: "Serving replicas lost (crash, failed health check, lost node) since the version was deployed",
    labelNames: dep,
    registers,
  });
  const queued = new Gauge({
    name: "tsserve_deployment_queued_requests",
    help: "Requests waiting in handles for a replica of the deployment, summed over handles",
    labelNames: dep,
    registers,
  });
  const rejected = new Gauge({
    name: "tsserve_controller_rejected_messages",
    help: "Malformed or forged messages the controller dropped since it started",
    registers,
  });
  return { replicas, depStatus, appStatus, target, restarts, queued, rejected };
}
let gauges: ReturnType<typeof controllerGauges> | undefined;

/**
 * The controller's Prometheus series, computed from its status when a scrape asks (only the
 * active leader answers, so a standby never reports an empty cluster):
 * - `tsserve_deployment_replicas{state}` (Ray: `ray_serve_deployment_replica_healthy` and replica states);
 * - `tsserve_deployment_status{status}` and `tsserve_application_status{status}`: 1 for the current state;
 * - `tsserve_deployment_target_replicas`, `tsserve_deployment_restarts`;
 * - `tsserve_deployment_queued_requests`: requests waiting in every handle, summed from the
 *   handles' `hmetrics` reports (Ray: `ray_serve_deployment_queued_queries`);
 * - `tsserve_controller_rejected_messages`.
 */
export function serveControllerMetrics(
  nc: NatsConnection,
  prefix: string,
  controllerId: string,
  status: () => StatusReport | undefined,
): Subscription[] {
  setProcessLabels("controller", controllerId);
  const { replicas, depStatus, appStatus, target, restarts, queued, rejected } = (gauges ??=
    controllerGauges());
  // handle id → its last report, per deployment key
  const handles = new Map<string, Map<string, { queued: number; at: number }>>();
  const refresh = (): boolean => {
    const report = status();
    if (report === undefined) return false;
    for (const g of [replicas, depStatus, appStatus, target, restarts, queued]) g.reset();
    const now = Date.now();
    for (const app of report.applications) {
      for (const s of APP_STATES) appStatus.set({ app: app.name, status: s }, app.status === s ? 1 : 0);
      for (const d of app.deployments) {
        const l = { app: app.name, deployment: d.name };
        for (const s of REPLICA_STATES)
          replicas.set({ ...l, state: s }, d.replicas.filter((r) => r.state === s).length);
        for (const s of DEPLOYMENT_STATES) depStatus.set({ ...l, status: s }, d.status === s ? 1 : 0);
        target.set(l, d.targetReplicas);
        restarts.set(l, d.restarts ?? 0);
        let q = 0;
        for (const [id, h] of handles.get(`${app.name}/${d.name}`) ?? []) {
          if (now - h.at > HANDLE_STALE_MS) handles.get(`${app.name}/${d.name}`)?.delete(id);
          else q += h.queued;
        }
        queued.set(l, q);
      }
    }
    rejected.set(report.controller?.rejectedMessages ?? 0);
    return true;
  };
  const hsub = nc.subscribe(`${subject(prefix, VERBS.handleMetrics)}.*.*`, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const m = decode(msg.data);
        if (!isPlainObject(m) || typeof m["handleId"] !== "string" || typeof m["queued"] !== "number") return;
        const key = `${String(m["app"])}/${String(m["deployment"])}`;
        let per = handles.get(key);
        if (!per) handles.set(key, (per = new Map()));
        per.set(m["handleId"], { queued: m["queued"], at: Date.now() });
      } catch {
        // Malformed reports are the autoscaler's to count; metrics just skip them.
      }
    },
  });
  return [serveMetrics(nc, prefix, refresh), hsub];
}
