import type { ChaosCluster } from "./chaos-cluster.js";
import { pick, pidAlive, replicaPids, signalPid, type FaultKind, type FaultRecord } from "./faults.js";

/** Options of {@link startChaosMonkey}. */
export interface ChaosMonkeyOptions {
  /** Application whose replicas are hit. */
  app: string;
  /** Faults to choose from. @default every kind but "nats-restart" */
  kinds?: FaultKind[];
  /** Shortest and longest pause between two faults. @default [2000, 4000] */
  intervalMs?: [number, number];
  /** How long a SIGSTOPped replica stays stopped. @default 3000 */
  stopMs?: number;
  /** How long a SIGKILLed agent stays dead before its supervisor restarts it. @default 1000 */
  agentDownMs?: number;
  /** Random source (seed it to replay a run). @default Math.random */
  random?: () => number;
  /** Restarts the NATS server, for the "nats-restart" kind. */
  restartNats?: () => Promise<void>;
}

/** A running fault injector. */
export interface ChaosMonkey {
  /** Faults injected so far. */
  readonly faults: readonly FaultRecord[];
  /** Stops injecting, resumes any stopped process, waits for restarts in progress. */
  stop(): Promise<FaultRecord[]>;
}

const DEFAULT_KINDS: FaultKind[] = [
  "replica-sigkill",
  "replica-sigstop",
  "agent-sigkill",
  "controller-restart",
];

/**
 * Strikes a random fault every few seconds: SIGKILL a replica, SIGSTOP one (SIGCONT later),
 * SIGKILL an agent (respawned by its "supervisor" a moment later), SIGKILL the controller and start
 * a new one, or restart NATS. Faults run one at a time, each kind once per round in random order;
 * each is recorded with what it hit.
 */
export function startChaosMonkey(cc: ChaosCluster, options: ChaosMonkeyOptions): ChaosMonkey {
  const kinds = options.kinds ?? DEFAULT_KINDS;
  const [minMs, maxMs] = options.intervalMs ?? [2000, 4000];
  const random = options.random ?? Math.random;
  const faults: FaultRecord[] = [];
  const started = Date.now();
  const stopped = new Set<number>();
  let known = new Map<string, number>();
  let running = true;
  let bag: FaultKind[] = [];
  let wake: (() => void) | undefined;

  const refreshPids = async (): Promise<void> => {
    // The controller may be the one that is down: keep the last list it gave.
    const fresh = await replicaPids(cc.cluster, options.app).catch(() => null);
    if (fresh !== null && fresh.size > 0) known = fresh;
  };
  const record = (kind: FaultKind, target: string, applied: boolean, note?: string): void => {
    faults.push({ kind, at: Date.now() - started, target, applied, ...(note ? { note } : {}) });
  };

  const strike = async (kind: FaultKind): Promise<void> => {
    await refreshPids();
    const live = [...known].filter(([, pid]) => pidAlive(pid) && !stopped.has(pid));
    switch (kind) {
      case "replica-sigkill": {
        const [id, pid] = pick(live, random) ?? ["none", -1];
        record(kind, `${id} (pid ${pid})`, signalPid(pid, "SIGKILL"));
        return;
      }
      case "replica-sigstop": {
        const [id, pid] = pick(live, random) ?? ["none", -1];
        const ok = signalPid(pid, "SIGSTOP");
        record(kind, `${id} (pid ${pid})`, ok, `SIGCONT after ${options.stopMs ?? 3000} ms`);
        if (!ok) return;
        stopped.add(pid);
        setTimeout(() => {
          stopped.delete(pid);
          signalPid(pid, "SIGCONT");
        }, options.stopMs ?? 3000).unref();
        return;
      }
      case "agent-sigkill": {
        const i = Math.floor(random() * cc.extraAgents.length);
        const agent = cc.extraAgents[i];
        if (agent === undefined) return record(kind, "none", false, "no extra agents to kill");
        signalPid(agent.pid, "SIGKILL");
        record(
          kind,
          `agent #${i} (pid ${agent.pid})`,
          true,
          `respawned after ${options.agentDownMs ?? 1000} ms`,
        );
        await sleep(options.agentDownMs ?? 1000);
        await cc.respawnAgent(i);
        return;
      }
      case "controller-restart": {
        const pid = cc.cluster.pids.controller;
        await cc.cluster.killController();
        try {
          await cc.cluster.restartController();
          record(kind, `controller (pid ${pid} → ${cc.cluster.pids.controller})`, true);
        } catch (e) {
          record(kind, `controller (pid ${pid})`, true, `restart failed: ${(e as Error).message}`);
        }
        return;
      }
      case "nats-restart": {
        if (!options.restartNats) return record(kind, "nats", false, "no restartNats given");
        await options.restartNats();
        record(kind, "nats-server", true);
        return;
      }
    }
  };

  const loop = (async () => {
    while (running) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, minMs + random() * (maxMs - minMs)).unref();
      });
      if (!running) break;
      // A shuffled bag, refilled when empty: every kind strikes once before any strikes twice.
      if (bag.length === 0) bag = shuffle([...kinds], random);
      const kind = bag.pop()!;
      try {
        await strike(kind);
      } catch (e) {
        record(kind, "?", false, `injector error: ${(e as Error).message}`);
      }
    }
  })();

  return {
    faults,
    stop: async () => {
      running = false;
      wake?.();
      await loop;
      for (const pid of stopped) signalPid(pid, "SIGCONT");
      stopped.clear();
      return faults;
    },
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
