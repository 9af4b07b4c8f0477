import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, StorageType, type ConnectionOptions, type NatsConnection } from "nats";
import { freePort, natsServerBinary, sleep, waitUntil } from "@tsserve/test-utils";

/** One nats-server of a {@link NatsCluster}. */
export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  /** Current pid (changes on restart); -1 while stopped. */
  readonly pid: number;
  readonly running: boolean;
}

/** Three (or `size`) clustered nats-servers on loopback, JetStream on each. */
export interface NatsCluster extends AsyncDisposable {
  readonly nodes: readonly ClusterNode[];
  /** Every client URL, comma-separated: what a process that may fail over is given. */
  readonly urls: string;
  /** SIGKILLs one node and waits until it is gone. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again on the same ports and store, and waits until it routes. */
  restart(index: number): Promise<void>;
  /** Stops every node by pid and removes the store directories. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions {
  /** Number of servers. @default 3 */
  size?: number;
  /** Extra config lines for every server (e.g. `max_payload: 65536`, authorization blocks). */
  extraConfig?: string;
  /** Extra config lines for one server (auth or TLS on some servers only). */
  nodeConfig?: (index: number) => string;
  /** Credentials/TLS the readiness checks use to connect to one server (for `nodeConfig` auth). */
  checkOptions?: (index: number) => Partial<ConnectionOptions>;
  /**
   * Servers configured but not started (`restart(i)` starts them): a cluster still forming, whose
   * JetStream does not know every server yet. @default none
   */
  held?: readonly number[];
}

interface NodeState {
  name: string;
  port: number;
  clusterPort: number;
  conf: string;
  child: ChildProcess | null;
  log: string;
}

/**
 * Starts a nats-server cluster on 127.0.0.1: each server has its own client and cluster port,
 * routes to every other, a unique `server_name` (JetStream clustering requires it) and its own
 * JetStream store. Resolves once every server accepts clients, routes reach across all of them and
 * JetStream can place a stream replicated on every server.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const bin = natsServerBinary();
  const checkOptions = (i: number): Partial<ConnectionOptions> => options.checkOptions?.(i) ?? {};
  const dir = mkdtempSync(join(tmpdir(), "tsserve-nats-cluster-"));
  const states: NodeState[] = [];
  for (let i = 0; i < size; i++) {
    states.push({
      name: `n${i + 1}`,
      port: await freePort(),
      clusterPort: await freePort(),
      conf: join(dir, `n${i + 1}.conf`),
      child: null,
      log: "",
    });
  }
  for (const [i, s] of states.entries()) {
    const routes = states
      .filter((o) => o !== s)
      .map((o) => `nats-route://127.0.0.1:${o.clusterPort}`)
      .join(", ");
    writeFileSync(
      s.conf,
      [
        `server_name: ${s.name}`,
        `listen: "127.0.0.1:${s.port}"`,
        `jetstream { store_dir: "${join(dir, s.name)}" }`,
        `cluster { name: tsserve_chaos, listen: "127.0.0.1:${s.clusterPort}", routes: [${routes}] }`,
        options.extraConfig ?? "",
        options.nodeConfig?.(i) ?? "",
      ].join("\n"),
    );
  }

  const launch = (s: NodeState): void => {
    s.log = "";
    const child = spawn(bin, ["-c", s.conf], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => {
      s.log = (s.log + d.toString()).slice(-4000);
    });
    s.child = child;
  };
  const alive = (s: NodeState): boolean =>
    s.child !== null && s.child.exitCode === null && s.child.signalCode === null;
  const killNode = async (s: NodeState): Promise<void> => {
    const c = s.child;
    if (c === null || !alive(s)) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGKILL");
    await exited;
  };

  const cluster: NatsCluster = {
    nodes: states.map((s) => ({
      name: s.name,
      url: `nats://127.0.0.1:${s.port}`,
      port: s.port,
      clusterPort: s.clusterPort,
      get pid() {
        return alive(s) ? (s.child?.pid ?? -1) : -1;
      },
      get running() {
        return alive(s);
      },
    })),
    urls: states.map((s) => `nats://127.0.0.1:${s.port}`).join(","),
    kill: async (i) => killNode(states[i]!),
    restart: async (i) => {
      const s = states[i]!;
      await killNode(s);
      launch(s);
      await waitRouted(states.filter(alive), () => describeLogs(states), checkOptions);
    },
    stop: async () => {
      await Promise.all(states.map(killNode));
      rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
  try {
    const started = states.filter((_, i) => !options.held?.includes(i));
    for (const s of started) launch(s);
    await waitRouted(started, () => describeLogs(states), checkOptions);
    const first = states.indexOf(started[0]!);
    await waitJetStream(cluster.nodes[first]!.url, started.length, checkOptions(first));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

function describeLogs(states: NodeState[]): string {
  return states.map((s) => `--- ${s.name} ---\n${s.log}`).join("\n");
}

/** Waits until a message published on each server reaches a subscriber on every other one. */
async function waitRouted(
  states: NodeState[],
  logs: () => string,
  checkOptions: (i: number) => Partial<ConnectionOptions>,
): Promise<void> {
  const conns: NatsConnection[] = [];
  try {
    await waitUntil(
      async () => {
        for (const s of states) {
          if (s.child?.exitCode !== null && s.child?.exitCode !== undefined)
            throw new Error(`nats-server ${s.name} exited: ${logs()}`);
        }
        while (conns.length < states.length) {
          const s = states[conns.length]!;
          const i = Number(s.name.slice(1)) - 1;
          conns.push(
            await connect({
              ...checkOptions(i),
              servers: `nats://127.0.0.1:${s.port}`,
              reconnect: false,
              timeout: 500,
            }),
          );
        }
        return allPairsRoute(conns);
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "nats cluster routes between every server" },
    );
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
}

async function allPairsRoute(conns: NatsConnection[]): Promise<boolean> {
  const subject = `chaos.route-check.${Math.random().toString(36).slice(2)}`;
  const seen = conns.map(() => 0);
  const subs = conns.map((c, i) => c.subscribe(subject, { callback: () => seen[i]!++ }));
  await Promise.all(conns.map((c) => c.flush()));
  // Route interest propagates asynchronously; give it a moment before publishing.
  await sleep(50);
  for (const c of conns) c.publish(subject);
  await Promise.all(conns.map((c) => c.flush()));
  await sleep(100);
  for (const s of subs) s.unsubscribe();
  return seen.every((n) => n === conns.length);
}

/**
 * Waits until JetStream can place a stream on every server: a meta leader alone is not enough, as
 * peers register with it one by one and a replicated stream created before the last one has
 * joined fails with "no suitable peers for placement". A probe stream with one replica per server
 * is created and deleted.
 */
async function waitJetStream(url: string, size: number, options: Partial<ConnectionOptions>): Promise<void> {
  const nc = await connect({ ...options, servers: url, timeout: 1000 });
  const name = `chaos_placement_${Math.random().toString(36).slice(2)}`;
  try {
    await waitUntil(
      async () => {
        const jsm = await nc.jetstreamManager({ timeout: 1000 });
        await jsm.streams.add({
          name,
          subjects: [`${name}.>`],
          storage: StorageType.Memory,
          num_replicas: size,
        });
        await jsm.streams.delete(name);
        return true;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 200,
        message: `JetStream places a stream on all ${size} servers of the nats cluster`,
      },
    );
  } finally {
    await nc.close();
  }
}
