/**
 * Soak: `pnpm soak -- --minutes N [--sessions 50] [--fault-interval-s 15] [--sample-s 10]
 * [--faults replica-sigkill,replica-sigstop,agent-sigkill,controller-restart] [--out file.json]`.
 *
 * Runs a local tsserve cluster (nats-server, controller, two agents, four replicas) under steady
 * session traffic and a steady fault rate, samples every process's RSS from /proc, and at the end
 * prints a table and writes JSON: memory of each process over time, growth after warm-up, and the
 * request accounting. Exit code 1 when a request is unaccounted (hung, untyped, lost), when a
 * process that lived through the run grew more than 10 % after warm-up, or when the cluster did
 * not converge.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom, startNatsServer } from "@tsserve/test-utils";
import { startChaosCluster, targetApplication, waitConverged } from "./src/chaos-cluster.js";
import { startChaosMonkey } from "./src/chaos-monkey.js";
import { replicaPids, type FaultKind } from "./src/faults.js";
import { MemorySampler } from "./src/memory-sampler.js";
import { formatTraffic, startTraffic, typedFailures } from "./src/traffic.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = "soak";
const REPLICAS = 4;
const MAX_GROWTH_PCT = 10;

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue; // pnpm may pass a bare "--"
    out[m[1]!] = m[2] ?? argv[++i] ?? "";
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const num = (name: string, dflt: number): number => {
  const v = args[name] === undefined ? dflt : Number(args[name]);
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`--${name}: expected a positive number, got ${args[name]}`);
  return v;
};
const minutes = num("minutes", 10);
const sessions = num("sessions", 50);
const faultIntervalS = num("fault-interval-s", 15);
const sampleS = num("sample-s", 10);
const seed = num("seed", (Date.now() % 1_000_000) + 1);
const faults = (args["faults"] ?? "replica-sigkill,replica-sigstop,agent-sigkill,controller-restart")
  .split(",")
  .filter(Boolean) as FaultKind[];
const out = resolve(
  args["out"] ?? join(HERE, "soak-results", `soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
);
const runMs = minutes * 60_000;
// Warm-up: JIT, caches and connection buffers settle; growth is measured after it.
const warmupMs = Math.min(120_000, runMs * 0.25);

const log = (line: string): void => console.log(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);
const t0 = Date.now();

const server = await startNatsServer();
const cc = await startChaosCluster({
  address: server.url,
  prefix: "soak",
  agents: 0,
  extraAgents: [
    { nodeId: "soak-a", address: server.url },
    { nodeId: "soak-b", address: server.url },
  ],
});
let exitCode = 0;
try {
  await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: REPLICAS })] });
  await waitConverged(cc, APP, REPLICAS);
  log(
    `cluster up; ${minutes} min, ${sessions} sessions, a fault every ~${faultIntervalS} s (${faults.join(", ")}), seed ${seed}`,
  );

  const sampler = new MemorySampler();
  let replicas = new Map<string, number>();
  const sample = async (): Promise<void> => {
    replicas = (await replicaPids(cc.cluster, APP).catch(() => null)) ?? replicas;
    sampler.sample([
      { role: "nats-server", pid: server.pid, name: "nats-server" },
      { role: "controller", pid: cc.cluster.pids.controller, name: "controller" },
      ...cc.agentPids().map((pid, i) => ({ role: "agent", pid, name: `agent #${i}` })),
      ...[...replicas].map(([id, pid]) => ({ role: "replica", pid, name: id })),
      { role: "driver", pid: process.pid, name: "soak driver (handles)" },
    ]);
  };
  await sample();
  const sampling = setInterval(() => void sample(), sampleS * 1000);
  const traffic = startTraffic(cc.handle(APP), { sessions, timeoutMs: 5000, pauseMs: 50 });
  const monkey = startChaosMonkey(cc, {
    app: APP,
    kinds: faults,
    random: seededRandom(seed),
    intervalMs: [faultIntervalS * 500, faultIntervalS * 1500],
  });
  const progress = setInterval(() => log(formatTraffic(traffic.report())), 60_000);
  await new Promise((r) => setTimeout(r, runMs));
  clearInterval(progress);
  const struck = await monkey.stop();
  const report = await traffic.stop();
  await sample();
  clearInterval(sampling);
  const endMs = Date.now() - sampler.startedAt;

  let converged = true;
  try {
    await waitConverged(cc, APP, REPLICAS, 60_000);
  } catch (e) {
    converged = false;
    log(`did not converge: ${(e as Error).message}`);
  }

  const growth = sampler.growth(warmupMs, endMs, sampleS * 1000);
  const unaccounted = report.unaccounted + report.inFlight + report.hung + report.untyped;
  const grown = growth.filter((g) => g.longLived && g.growthPct > MAX_GROWTH_PCT);
  console.log("\nmemory (RSS KiB) after warm-up → end, per process:");
  console.table(
    growth.map((g) => ({
      role: g.role,
      pid: g.pid,
      name: g.name,
      "lived s": g.livedS,
      "after warm-up": g.afterWarmupKb,
      end: g.endKb,
      max: g.maxKb,
      "growth %": g.growthPct,
      "whole run": g.longLived ? "yes" : "",
    })),
  );
  console.log(`\nrequests: ${formatTraffic(report)}`);
  console.log(
    `faults struck: ${struck.filter((f) => f.applied).length} (${struck.map((f) => f.kind).join(", ")})`,
  );
  console.log(
    `unaccounted requests: ${unaccounted}; converged: ${converged}; processes over +${MAX_GROWTH_PCT} %: ${grown.map((g) => `${g.role} ${g.pid} ${g.growthPct} %`).join(", ") || "none"}`,
  );

  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        minutes,
        sessions,
        faultIntervalS,
        seed,
        warmupMs,
        requests: {
          ...report,
          lastReplica: undefined,
          perReplica: Object.fromEntries(report.perReplica),
          typedTotal: typedFailures(report),
        },
        unaccounted,
        converged,
        faults: struck,
        growth,
        memory: sampler.all(),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`JSON report: ${out}`);
  if (unaccounted > 0 || grown.length > 0 || !converged) exitCode = 1;
} finally {
  await cc.stop();
  await server.stop();
}
process.exit(exitCode);
