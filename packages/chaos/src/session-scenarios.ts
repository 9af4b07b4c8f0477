import type { DeploymentOptions } from "@tsserve/protocol";
import { type ChaosCluster, waitConverged } from "./chaos-cluster.js";
import { pidAlive, replicaPids, signalPid } from "./faults.js";
import { SESSION_TARGET, sessionApplication } from "./session-cluster.js";
import type { SessionDrivers } from "./session-drivers.js";
import type { CallOutcome } from "./session-history.js";

/** One change the scenario made, with how long the cluster took to converge after it. */
export interface PhaseRecord {
  name: string;
  /** When the change began, on the fixture's clock (performance.timeOrigin + performance.now()). */
  at: number;
  /** ms from the change to convergence. */
  convergedMs: number;
  /** Replica ids that died by SIGKILL in this phase (memory mode loses their sessions). */
  killed: string[];
  /**
   * When the fault struck (the SIGKILL was sent), on the same clock; `at` for changes that do not
   * kill. A dead replica's sessions are the ones it owned at this instant: `at` is taken before the
   * fault looks up its target, and a session whose calls between the two ran on the victim and
   * that called nobody after the kill lost nothing anyone could see.
   */
  struckAt: number;
  /**
   * A planned change (deploy, rolling update, scaling, drain): it must lose no call. The others
   * are faults (SIGKILLs, a controller restart).
   */
  planned: boolean;
}

/**
 * The planned and unplanned changes of issue 19's "Done when", each applied to the SessionTarget
 * application while drivers keep calling, each followed by convergence and by `settleCalls`
 * more acknowledged calls (so that every session calls again after the change).
 */
export class SessionScenario {
  readonly phases: PhaseRecord[] = [];
  private version = 1;
  private replicas: number;

  constructor(
    private readonly cc: ChaosCluster,
    private readonly app: string,
    private readonly options: DeploymentOptions & { numReplicas: number },
    private readonly drivers: () => SessionDrivers | undefined,
    private readonly settleCalls = 600,
  ) {
    this.replicas = options.numReplicas;
  }

  /** Deploys the application and waits for it. */
  async deploy(): Promise<void> {
    await this.apply("deploy", () => this.send());
  }

  /** A rolling update: a new code version, every replica replaced (`tsserve deploy --force`). */
  async rollingUpdate(): Promise<void> {
    this.version++;
    await this.apply(`rolling update to v${this.version}`, () => this.send());
  }

  /** Scales to `n` replicas. */
  async scale(n: number): Promise<void> {
    const from = this.replicas;
    this.replicas = n;
    await this.apply(`scale ${from} → ${n}`, () => this.send());
  }

  /** Drains extra agent `i` (SIGTERM: it drains its replicas and exits), then starts it again. */
  async drainAgent(i: number): Promise<void> {
    await this.apply(`drain agent #${i}`, async () => {
      const agent = this.cc.extraAgents[i];
      if (!agent) throw new Error(`no extra agent #${i}`);
      // SIGTERM now (stop() would first wait for an exit of its own), then wait for it to exit.
      signalPid(agent.pid, "SIGTERM");
      await agent.stop(15_000, 5000);
      await this.cc.respawnAgent(i);
    });
  }

  /** SIGKILLs one RUNNING replica (the first by id, so runs are comparable), `times` times. */
  async sigkillLoop(times: number): Promise<void> {
    for (let k = 0; k < times; k++) {
      const killed: string[] = [];
      await this.apply(
        `replica SIGKILL ${k + 1}/${times}`,
        async () => {
          const pids = [...(await replicaPids(this.cc.cluster, this.app))].sort();
          const [id, pid] = pids[k % pids.length] ?? ["none", -1];
          const struck = now();
          if (signalPid(pid, "SIGKILL")) killed.push(id);
          return struck;
        },
        killed,
        false,
      );
    }
  }

  /** SIGKILLs extra agent `i` (its replicas die with it), then starts it again. */
  async agentSigkill(i: number): Promise<void> {
    const killed: string[] = [];
    await this.apply(
      `agent #${i} SIGKILL`,
      async () => {
        const agent = this.cc.extraAgents[i];
        if (!agent) throw new Error(`no extra agent #${i}`);
        const before = await replicaPids(this.cc.cluster, this.app);
        const struck = now();
        signalPid(agent.pid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 500));
        for (const [id, pid] of before) if (!pidAlive(pid)) killed.push(id);
        await this.cc.respawnAgent(i);
        return struck;
      },
      killed,
      false,
    );
  }

  /** SIGKILLs the controller and starts it again. */
  async controllerRestart(): Promise<void> {
    await this.apply(
      "controller restart",
      async () => {
        await this.cc.cluster.killController();
        await this.cc.cluster.restartController();
      },
      [],
      false,
    );
  }

  /** Every replica killed by a fault so far. */
  killed(): Set<string> {
    return new Set(this.phases.flatMap((p) => p.killed));
  }

  /**
   * The calls sent during each phase (from its start to the next one's) that failed, by error
   * code, in phase order. Calls sent before the first phase are not counted.
   */
  failedByPhase(outcomes: readonly CallOutcome[]): { phase: PhaseRecord; failed: Record<string, number> }[] {
    return this.phases.map((p, i) => {
      const end = this.phases[i + 1]?.at ?? Infinity;
      const failed: Record<string, number> = {};
      for (const o of outcomes)
        if (!o.reply && o.sentAt !== undefined && o.sentAt >= p.at && o.sentAt < end)
          failed[o.error ?? "?"] = (failed[o.error ?? "?"] ?? 0) + 1;
      return { phase: p, failed };
    });
  }

  /** The failed calls (by code) sent during the phases `which` selects, e.g. the planned ones. */
  failedIn(outcomes: readonly CallOutcome[], which: (p: PhaseRecord) => boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { phase, failed } of this.failedByPhase(outcomes))
      if (which(phase)) for (const [k, v] of Object.entries(failed)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /**
   * One line per phase, for the test's log; with `outcomes`, also the calls sent during each phase
   * that failed, by code.
   */
  format(outcomes: readonly CallOutcome[] = []): string {
    return this.failedByPhase(outcomes)
      .map(({ phase: p, failed }) => {
        const f = Object.entries(failed).map(([k, v]) => `${k}=${v}`);
        return `  ${p.name}: converged in ${p.convergedMs} ms${f.length ? `; failed calls ${f.join(" ")}` : ""}`;
      })
      .join("\n");
  }

  private async send(): Promise<void> {
    await this.cc.cluster.client.deploy({
      applications: [
        sessionApplication(this.app, { ...this.options, numReplicas: this.replicas }, `v${this.version}`),
      ],
    });
  }

  private async apply(
    name: string,
    /** Makes the change; a fault returns when it struck (see PhaseRecord.struckAt). */
    change: () => Promise<number | void>,
    killed: string[] = [],
    planned = true,
  ): Promise<void> {
    const t0 = Date.now();
    const at = now();
    const struckAt = (await change()) ?? at;
    await waitConverged(this.cc, this.app, this.replicas, 60_000, SESSION_TARGET);
    this.phases.push({ name, at, struckAt, convergedMs: Date.now() - t0, killed, planned });
    await this.drivers()?.waitForAcked(this.settleCalls);
  }
}

/** The fixture's clock (the drivers' call records use the same). */
const now = (): number => performance.timeOrigin + performance.now();
