import type { StatusReport } from "@tsserve/protocol";
import { hasModelColumn, replicaModelCell } from "./model-columns.js";
import { deploymentSessionCell, hasSessionColumns, replicaSessionCells } from "./session-columns.js";

/** Left-aligns columns; the last column is not padded. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function age(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/**
 * The human view of `tsserve status`: one line per application (Ray's states), one per deployment (application, route, health,
 * running/target replicas, message), then one line per replica.
 */
export function formatStatus(report: StatusReport, now = Date.now()): string {
  if (report.applications.length === 0) {
    const nodes = report.nodes.length;
    return `no applications deployed (${nodes} node${nodes === 1 ? "" : "s"} connected); deploy one with \`tsserve deploy serve.yaml\``;
  }
  const sessions = hasSessionColumns(report);
  const models = hasModelColumn(report);
  const apps: string[][] = [["APPLICATION", "STATUS", "MESSAGE"]];
  const deployments: string[][] = [
    [
      "APPLICATION",
      "ROUTE",
      "DEPLOYMENT",
      "STATUS",
      "REPLICAS",
      ...(sessions ? ["SESSIONS"] : []),
      "MESSAGE",
    ],
  ];
  const replicas: string[][] = [
    [
      "REPLICA",
      "APPLICATION",
      "STATE",
      "NODE",
      "PID",
      "ONGOING",
      "AGE",
      "VERSION",
      "RESTARTS",
      ...(sessions ? ["SESSIONS", "HANDOFFS"] : []),
      ...(models ? ["MODELS"] : []),
    ],
  ];
  for (const app of report.applications) {
    apps.push([app.name, app.status ?? "-", app.message ?? ""]);
    for (const d of app.deployments) {
      const running = d.replicas.filter((r) => r.state === "RUNNING").length;
      const name = d.name === app.ingress ? `${d.name} (ingress)` : d.name;
      deployments.push([
        app.name,
        app.routePrefix ?? "-",
        name,
        d.status,
        `${running}/${d.targetReplicas}`,
        ...(sessions ? [deploymentSessionCell(d)] : []),
        d.message,
      ]);
      for (const r of d.replicas) {
        replicas.push([
          r.replicaId,
          app.name,
          r.state,
          r.nodeId,
          String(r.pid),
          String(r.ongoing),
          age(r.startedAt, now),
          (r.codeVersion ?? "-").slice(0, 8),
          String(r.restarts ?? 0),
          ...(sessions ? replicaSessionCells(r) : []),
          ...(models ? [replicaModelCell(r)] : []),
        ]);
      }
    }
  }
  const nodeLine = `nodes: ${report.nodes.map((n) => `${n.nodeId} (${n.replicas} replicas)`).join(", ") || "none"}`;
  return `${table(apps)}\n\n${table(deployments)}\n\n${table(replicas)}\n\n${nodeLine}${rejectionLine(report)}`;
}

/** Malformed or forged messages each component refused, shown only when there were some. */
function rejectionLine(report: StatusReport): string {
  const controller = report.controller?.rejectedMessages ?? 0;
  const agents = report.nodes.reduce((n, a) => n + (a.rejectedMessages ?? 0), 0);
  let replicas = 0;
  for (const a of report.applications)
    for (const d of a.deployments) for (const r of d.replicas) replicas += r.rejectedMessages ?? 0;
  if (controller + agents + replicas === 0) return "";
  return `\nrejected messages: controller ${controller}, agents ${agents}, replicas ${replicas}`;
}
