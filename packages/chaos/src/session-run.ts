import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServer } from "@tsserve/test-utils";
import { startChaosCluster, type ChaosCluster } from "./chaos-cluster.js";
import { EVICTION_LINE, callLossBreaches, evictionsIn } from "./session-call-loss.js";
import { readReplicaRecords, sessionHistoryEnv } from "./session-cluster.js";
import { startSessionDrivers, type SessionDrivers } from "./session-drivers.js";
import {
  checkSessionHistory,
  type CallOutcome,
  type CheckOptions,
  type HistoryReport,
} from "./session-history.js";
import { SessionScenario } from "./session-scenarios.js";

/**
 * One run of the per-session history checker (issue 19's "Done when"): a private nats-server, a
 * controller and two extra agents whose replicas record every call they run, the SessionTarget
 * deployment at 4 replicas in `mode`, and driver processes started on demand. Disposing it stops
 * the drivers, the cluster and the server, and deletes the run's folder.
 */
export class SessionRun implements AsyncDisposable {
  /** The drivers now running (the scenario waits for their acknowledged calls). */
  drivers: SessionDrivers | undefined;
  readonly scenario: SessionScenario;

  private constructor(
    private readonly server: NatsServer,
    readonly cluster: ChaosCluster,
    private readonly prefix: string,
    private readonly app: string,
    private readonly dir: string,
    mode: "memory" | "durable",
  ) {
    this.scenario = new SessionScenario(
      cluster,
      app,
      { numReplicas: 4, sessionState: { mode } },
      () => this.drivers,
    );
  }

  /** Starts the server and cluster and deploys the app; `prefix` names the run's subjects and agents. */
  static async start(mode: "memory" | "durable", prefix: string, app: string): Promise<SessionRun> {
    const dir = mkdtempSync(join(tmpdir(), "tsserve-history-"));
    mkdirSync(join(dir, "replicas"));
    let server: NatsServer | undefined;
    let cluster: ChaosCluster;
    try {
      server = await startNatsServer();
      cluster = await startChaosCluster({
        address: server.url,
        prefix,
        agents: 0,
        extraAgents: [
          { nodeId: `${prefix}-a`, address: server.url },
          { nodeId: `${prefix}-b`, address: server.url },
        ],
        env: sessionHistoryEnv(join(dir, "replicas")),
      });
    } catch (e) {
      if (server) await quietly(server);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const run = new SessionRun(server, cluster, prefix, app, dir, mode);
    try {
      await run.scenario.deploy();
    } catch (e) {
      await run[Symbol.asyncDispose]();
      throw e;
    }
    return run;
  }

  /** Starts driver processes (in `name`'s folder) and waits for `acked` acknowledged calls. */
  async startDrivers(name: string, acked: number, seqBase?: number): Promise<void> {
    this.drivers = await startSessionDrivers({
      address: this.server.url,
      prefix: this.prefix,
      app: this.app,
      dir: join(this.dir, name),
      ...(seqBase === undefined ? {} : { seqBase }),
    });
    await this.drivers.waitForAcked(acked);
  }

  /** Stops the drivers; their outcomes. */
  async stopDrivers(): Promise<CallOutcome[]> {
    const outcomes = (await this.drivers?.stop()) ?? [];
    this.drivers = undefined;
    return outcomes;
  }

  /** The checker's report on `outcomes` against what the replicas recorded. */
  check(outcomes: readonly CallOutcome[], options?: CheckOptions): HistoryReport {
    return checkSessionHistory(outcomes, readReplicaRecords(join(this.dir, "replicas")), options);
  }

  /** Phases that failed calls they should not have (a heartbeat eviction makes a phase a fault). */
  callLossBreaches(outcomes: readonly CallOutcome[]): ReturnType<typeof callLossBreaches> {
    return callLossBreaches(this.scenario, outcomes, evictionsIn(this.cluster.grepLogs(EVICTION_LINE)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drivers?.stop().catch(() => undefined);
    this.drivers = undefined;
    await quietly(this.cluster);
    await quietly(this.server);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Disposes `r`, ignoring its failure (teardown must reach the next resource). */
async function quietly(r: AsyncDisposable): Promise<void> {
  try {
    await r[Symbol.asyncDispose]();
  } catch {
    // already stopped or never fully started
  }
}
