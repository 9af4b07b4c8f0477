import { staticMembership, type Client, type DeploymentHandle } from "@tsserve/handle";
import type { ReplicaInfo, RequestRouterConfig } from "@tsserve/protocol";
import type { Adapters, AdapterStats } from "../fixtures/multiplex-app.js";
import { runOpenLoop } from "../harness/open-loop.js";
import { percentiles } from "../harness/stats.js";
import { Zipf } from "../harness/zipf.js";
import { followModelReports } from "./model-reports.js";

/** The shape of one multiplexing row. */
export interface MultiplexRowOptions {
  address: string;
  app: string;
  deployment: string;
  replicas: readonly ReplicaInfo[];
  maxOngoingRequests: number;
  maxModelsPerReplica: number;
  router: Required<RequestRouterConfig>;
  models: number;
  zipf: number;
  ratePerSec: number;
  durationMs: number;
  /** Calls started before this are not measured; the replicas' counts restart here. */
  warmupMs: number;
  /** Prefix of this row's model ids, so no row finds another's models loaded. */
  tag: string;
  random: () => number;
}

/** What one router did: calls and loads of the measured window, latency, the load invariant. */
export interface MultiplexRowStats {
  calls: number;
  errors: number;
  loads: number;
  p50Ms: number;
  p99Ms: number;
  /** Most loads of one model running at once on one replica (must be 1). */
  maxConcurrentLoadsOfOne: number;
  /** Loads of a model the replica already held (must be 0). */
  loadsWhileHeld: number;
  /** Membership updates the replicas' model reports caused. */
  reportUpdates: number;
}

/**
 * Open-loop calls from two clients (alternating, as two proxies would), each call for a model drawn
 * from Zipf(`zipf`) over `models` ids. Both clients route on the replicas' reported models, fed by
 * {@link followModelReports} as the controller feeds them.
 */
export async function runMultiplexRow(
  clients: readonly [Client, Client],
  o: MultiplexRowOptions,
): Promise<MultiplexRowStats> {
  const config = {
    maxOngoingRequests: o.maxOngoingRequests,
    maxModelsPerReplica: o.maxModelsPerReplica,
    requestRouter: o.router,
  };
  const memberships = clients.map(() => staticMembership({ replicas: [...o.replicas], config }));
  const reports = await followModelReports(o.address, o.app, o.deployment, o.replicas, memberships);
  const handles = clients.map((c, i) =>
    c.getDeploymentHandle<Adapters>(o.deployment, { app: o.app, membership: memberships[i]! }),
  );
  // One handle per replica for the counts (calls without a model id).
  const perReplica: DeploymentHandle<Adapters>[] = o.replicas.map((r) =>
    clients[0].getDeploymentHandle<Adapters>(o.deployment, {
      app: o.app,
      membership: staticMembership({ replicas: [r], config }),
    }),
  );
  const zipf = new Zipf(o.models, o.zipf, o.random);
  const latencies: number[] = [];
  const start = performance.now();
  const reset = new Promise<void>((resolve, reject) => {
    setTimeout(() => {
      Promise.all(perReplica.map((h) => h.resetStats.remote())).then(() => resolve(), reject);
    }, o.warmupMs);
  });
  try {
    const r = await runOpenLoop(
      async (seq) => {
        const modelId = `${o.tag}-m${zipf.next()}`;
        const h = handles[seq % 2]!.options({ multiplexedModelId: modelId, timeoutMs: 30_000 });
        const t0 = performance.now();
        await h.remote();
        if (t0 - start >= o.warmupMs) latencies.push(performance.now() - t0);
      },
      { ratePerSec: o.ratePerSec, durationMs: o.durationMs, drainTimeoutMs: 30_000 },
    );
    await reset;
    const stats: AdapterStats[] = await Promise.all(perReplica.map((h) => h.readStats.remote()));
    const p = percentiles(latencies);
    return {
      calls: latencies.length,
      errors: Object.values(r.errors).reduce((a, b) => a + b, 0) + r.outstanding,
      loads: stats.reduce((n, s) => n + s.loads, 0),
      p50Ms: p.p50,
      p99Ms: p.p99,
      maxConcurrentLoadsOfOne: Math.max(...stats.map((s) => s.maxConcurrentLoadsOfOne)),
      loadsWhileHeld: stats.reduce((n, s) => n + s.loadsWhileHeld, 0),
      reportUpdates: reports.updates(),
    };
  } finally {
    await reports.close();
  }
}
