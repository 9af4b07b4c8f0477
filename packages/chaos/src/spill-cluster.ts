import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeploymentHandle } from "@tsserve/handle";
import type { SessionSpill } from "@tsserve/protocol";
import { startNatsServer, type NatsServer } from "@tsserve/test-utils";
import { startChaosCluster, waitConverged, type ChaosCluster } from "./chaos-cluster.js";
import { SESSION_TARGET, sessionApplication, sessionHistoryEnv } from "./session-cluster.js";

/** A running spill scenario; disposing it stops the cluster and the server and deletes its folder. */
export interface SpillCluster extends AsyncDisposable {
  readonly cc: ChaosCluster;
  /** Where the replicas record every call they run (see readReplicaRecords). */
  readonly records: string;
  readonly handle: DeploymentHandle<unknown>;
}

/**
 * The spill tests' cluster: a private nats-server, two agents, the SessionTarget deployment at 2
 * replicas in memory mode with `maxOngoingRequests` 1 (a held call makes its replica full) and
 * ConsistentHash spilling after 20 ms to one fallback, `sessionState.spill` = `spill`.
 */
export async function startSpillCluster(app: string, spill: SessionSpill): Promise<SpillCluster> {
  const dir = mkdtempSync(join(tmpdir(), `tsserve-${app}-`));
  const records = join(dir, "replicas");
  mkdirSync(records);
  let server: NatsServer | undefined;
  let cc: ChaosCluster | undefined;
  const stop = async (): Promise<void> => {
    await cc?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await startNatsServer();
    cc = await startChaosCluster({
      address: server.url,
      prefix: app,
      agents: 2,
      env: sessionHistoryEnv(records),
    });
    await cc.cluster.client.deploy({
      applications: [
        sessionApplication(app, {
          numReplicas: 2,
          maxOngoingRequests: 1,
          sessionState: { mode: "memory", spill },
          requestRouter: {
            class: "ConsistentHash",
            kwargs: { numVirtualNodes: 100, numFallbackReplicas: 1, spillAfterMs: 20 },
          },
        }),
      ],
    });
    await waitConverged(cc, app, 2, 60_000, SESSION_TARGET);
    const handle = cc.client.getDeploymentHandle<unknown>(SESSION_TARGET, { app });
    return { cc, records, handle, [Symbol.asyncDispose]: stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
