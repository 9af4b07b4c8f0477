// tsserve dashboard: renders the snapshots the head streams on /api/events (docs/dashboard.md).
"use strict";

const $ = (sel) => document.querySelector(sel);
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const fmt = (n, d = 1) => (n === null || n === undefined ? "–" : Number(n).toFixed(d));
const COLORS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

/** Sessions over a deployment's replicas, "12 (2 moving)"; "–" when it has no sessionState. */
function deploymentSessions(d) {
  const stateful = d.replicas.filter((r) => r.sessions !== undefined);
  if (stateful.length === 0) return "–";
  const n = stateful.reduce((a, r) => a + r.sessions, 0);
  const moving = stateful.reduce((a, r) => a + (r.handoffs ?? 0), 0);
  return moving > 0 ? `${n} (${moving} moving)` : String(n);
}

/** A multiplexed replica's models, most recently used first; "–" when it is not multiplexed. */
function replicaModels(r) {
  if (r.models === undefined) return "–";
  return r.models.length ? esc([...r.models].reverse().join(", ")) : "none";
}

function render(snap) {
  const status = snap.status;
  $("#conn").textContent = status ? "live" : "controller not answering";
  if (!status) return;
  $("#nodes").textContent =
    `nodes: ${status.nodes.map((n) => `${n.nodeId} (${n.replicas})`).join(", ") || "none"}`;
  const apps = status.applications;
  $("#apps").innerHTML = apps.length
    ? apps
        .map(
          (a) =>
            `<div class="app" data-app="${esc(a.name)}"><b>${esc(a.name)}</b> <span class="s-${a.status}">${a.status}</span>` +
            ` <span class="muted">${esc(a.routePrefix ?? "no route")}</span>${a.message ? `<div class="muted">${esc(a.message)}</div>` : ""}</div>`,
        )
        .join("")
    : '<p class="muted">no applications deployed</p>';
  const stats = new Map(snap.deployments.map((s) => [`${s.app}/${s.deployment}`, s]));
  const depRows = [];
  const repRows = [];
  for (const a of apps) {
    for (const d of a.deployments) {
      const s = stats.get(`${a.name}/${d.name}`) ?? {};
      const running = d.replicas.filter((r) => r.state === "RUNNING").length;
      depRows.push(
        `<tr data-deployment="${esc(a.name)}/${esc(d.name)}"><td>${esc(a.name)}</td><td>${esc(d.name)}</td>` +
          `<td class="s-${d.status}">${d.status}</td><td class="replica-count">${running}/${d.targetReplicas}</td>` +
          `<td>${fmt(s.requestRate)}</td><td>${fmt(s.errorRate)}</td><td>${fmt(s.p50Ms)}</td><td>${fmt(s.p95Ms)}</td>` +
          `<td>${d.restarts}</td><td class="sessions">${deploymentSessions(d)}</td><td class="msg">${esc(d.message)}</td></tr>`,
      );
      for (const r of d.replicas) {
        repRows.push(
          `<tr data-replica="${esc(r.replicaId)}"><td>${esc(r.replicaId)}</td><td>${esc(a.name)}/${esc(d.name)}</td>` +
            `<td class="s-${r.state}">${r.state}</td><td>${r.ongoing}</td><td>${r.pid}</td><td>${esc(r.nodeId)}</td>` +
            `<td>${esc(r.codeVersion.slice(0, 8))}</td><td>${r.restarts}</td><td>${age(r.startedAt)}</td>` +
            `<td class="sessions">${r.sessions ?? "–"}</td><td class="handoffs">${r.sessions === undefined ? "–" : (r.handoffs ?? 0)}</td>` +
            `<td class="models">${replicaModels(r)}</td></tr>`,
        );
      }
    }
  }
  $("#deployments tbody").innerHTML = depRows.join("");
  $("#replicas tbody").innerHTML = repRows.join("");
  $("#rings").innerHTML = snap.rings.length
    ? snap.rings
        .map((ring) => {
          const bar = ring.replicas
            .map(
              (r, i) =>
                `<div title="${esc(r.replicaId)}: ${fmt(r.share * 100)} %" style="width:${r.share * 100}%;background:${COLORS[i % COLORS.length]}"></div>`,
            )
            .join("");
          const legend = ring.replicas
            .map(
              (r, i) =>
                `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(r.replicaId)}: ${fmt(r.share * 100)} % of keys, ${r.sessions} sessions</span>`,
            )
            .join("");
          return (
            `<div><b>${esc(ring.app)}/${esc(ring.deployment)}</b> <span class="muted">${ring.numVirtualNodes} points per replica</span>` +
            `<div class="ring">${bar}</div><div class="legend">${legend}</div></div>`
          );
        })
        .join("")
    : '<p class="muted">no ConsistentHash deployment</p>';
  const errors = [...snap.errors].reverse();
  for (const a of apps)
    for (const d of a.deployments)
      if (d.lastError)
        errors.push({
          ts: 0,
          app: a.name,
          deployment: d.name,
          replicaId: "",
          text: `last failure: ${d.lastError}`,
        });
  $("#errors").innerHTML = errors.length
    ? errors
        .slice(0, 50)
        .map(
          (e) =>
            `<li>${e.ts ? new Date(e.ts).toISOString() + " " : ""}[${esc(e.app)}/${esc(e.replicaId || e.deployment)}] ${esc(e.text)}</li>`,
        )
        .join("")
    : '<li class="muted">none</li>';
  document.body.dataset.updated = String(snap.at);
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("snapshot", (ev) => render(JSON.parse(ev.data)));
  es.onerror = () => ($("#conn").textContent = "reconnecting…");
}

connect();
