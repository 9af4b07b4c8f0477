import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type NatsConnection } from "nats";
import { heartbeatSubject } from "@tsserve/protocol/internal";
import {
  sleep,
  startNats,
  waitUntil,
  type NatsFixture,
  STREAM_APP,
  type Streamer,
} from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

const READER = fileURLToPath(new URL("./fixtures/stream-reader.mjs", import.meta.url));
const PINGER = fileURLToPath(new URL("./fixtures/pinger.mjs", import.meta.url));

/** Unary latencies measured by a separate client process (not slowed by the reader's own work). */
function startPinger(url: string, replicaId: string): () => Promise<number[]> {
  const child = spawn(process.execPath, [PINGER, url, replicaId], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return async () => {
    child.kill("SIGKILL");
    await exited;
    // The first call includes connecting and the first probe.
    return out.trim().split("\n").slice(1).map(Number).filter(Number.isFinite);
  };
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

/** While a stream runs: the replica's peak RSS, its heartbeat gaps, and unary call latencies. */
function watch(nc: NatsConnection, pid: number, replicaId: string, ping: () => Promise<unknown>) {
  let peakRss = rssMb(pid);
  const beats: number[] = [];
  const pings: number[] = [];
  const sub = nc.subscribe(heartbeatSubject("tsserve", "app", "Streamer", replicaId), {
    callback: () => beats.push(performance.now()),
  });
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 100);
  let stopped = false;
  const pinger = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await ping();
      pings.push(performance.now() - t0);
      await sleep(100);
    }
  })();
  const started = performance.now();
  return async () => {
    stopped = true;
    clearInterval(rssTimer);
    await pinger;
    sub.unsubscribe();
    const ended = performance.now();
    const edges = [started, ...beats, ended];
    let maxGap = 0;
    for (let i = 1; i < edges.length; i++) maxGap = Math.max(maxGap, edges[i]! - edges[i - 1]!);
    const sorted = [...pings].sort((a, b) => a - b);
    return {
      peakRss,
      beats: beats.length,
      maxGapMs: maxGap,
      pings: pings.length,
      pingP50: sorted[Math.floor(sorted.length / 2)] ?? NaN,
      pingP95: sorted[Math.floor(sorted.length * 0.95)] ?? NaN,
      pingMax: sorted.at(-1) ?? NaN,
      seconds: (ended - started) / 1000,
    };
  };
}

describe("stream flow control (real nats-server and replica processes)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let quick: ReplicaGroup;
  let client: Client;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    [replicas, quick] = await Promise.all([
      // Default window and credit timeout; the default 1 s heartbeat, so a missed beat shows.
      startReplicas({
        url: nats.url,
        ids: ["s1"],
        ...STREAM_APP,
        options: { heartbeatPeriodS: 1 },
      }),
      // A short credit timeout, for the consumer that dies.
      startReplicas({
        url: nats.url,
        ids: ["q1"],
        ...STREAM_APP,
        streamFlow: { creditTimeoutMs: 1500 },
      }),
    ]);
    client = await connect({ address: nats.url });
    nc = nats.nc;
  });

  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await quick?.stop();
    await nats?.stop();
  });

  const handle = (id = "s1") =>
    client.getDeploymentHandle<Streamer>("Streamer", {
      app: "app",
      membership: staticMembership({ replicas: [{ replicaId: id, nodeId: "node-1" }] }),
    });
  const pidOf = (group: ReplicaGroup, id: string): number => group.get(id).child.pid!;

  it("streams 1,000,000 × 100 B to a slow reader with bounded memory, steady heartbeats and fast unary calls", async () => {
    const h = handle();
    const pid = pidOf(replicas, "s1");
    const stop = watch(nc, pid, "s1", () => h.ping.remote());
    const stopPinger = startPinger(nats.url, "s1");
    const stream = h.options({ stream: true }).fast.remote(1_000_000, 100);
    let n = 0;
    let maxBuffered = 0;
    for await (const chunk of stream) {
      if (chunk.length !== 100) throw new Error(`chunk ${n} has ${chunk.length} bytes`);
      // A slow reader: 5 ms of "work" every 500 chunks, on top of reading.
      if (++n % 500 === 0) {
        maxBuffered = Math.max(maxBuffered, stream.buffered);
        await sleep(5);
      }
    }
    const m = await stop();
    const other = await stopPinger();
    console.log(
      `another client's pings during the stream: ${other.length}, p50 ${quantile(other, 0.5).toFixed(1)} ms, ` +
        `p95 ${quantile(other, 0.95).toFixed(1)} ms, p99 ${quantile(other, 0.99).toFixed(1)} ms, max ${Math.max(...other).toFixed(1)} ms`,
    );
    console.log(
      `1M × 100 B slow reader: ${m.seconds.toFixed(1)} s (${Math.round(n / m.seconds)} chunks/s), replica peak RSS ${m.peakRss.toFixed(0)} MB, ` +
        `max handle buffer ${maxBuffered} chunks, ${m.beats} heartbeats (max gap ${m.maxGapMs.toFixed(0)} ms), ` +
        `${m.pings} pings p50 ${m.pingP50.toFixed(1)} ms p95 ${m.pingP95.toFixed(1)} ms max ${m.pingMax.toFixed(1)} ms`,
    );
    expect(n).toBe(1_000_000);
    expect(m.peakRss).toBeLessThan(200);
    // The replica sends at most its window (256 chunks) beyond what was read.
    expect(maxBuffered).toBeLessThanOrEqual(257);
    // Heartbeats every 1 s ± 10 %: a gap of 2 s would be a missed beat.
    expect(m.maxGapMs).toBeLessThan(2000);
    expect(m.pingP95).toBeLessThan(100);
    expect(other.length).toBeGreaterThan(50);
    expect(quantile(other, 0.95)).toBeLessThan(100);
    expect(replicas.get("s1").child.exitCode).toBe(null);
  }, 180_000);

  it("keeps heartbeats and other calls going while a generator yields 100,000 × 1 KB without awaiting", async () => {
    const h = handle();
    const pid = pidOf(replicas, "s1");
    const stop = watch(nc, pid, "s1", () => h.ping.remote());
    let n = 0;
    for await (const chunk of h.options({ stream: true }).fast.remote(100_000, 1024))
      n += chunk.length === 1024 ? 1 : 0;
    const m = await stop();
    console.log(
      `100k × 1 KB fast reader: ${m.seconds.toFixed(1)} s, peak RSS ${m.peakRss.toFixed(0)} MB, max heartbeat gap ${m.maxGapMs.toFixed(0)} ms, ` +
        `pings p50 ${m.pingP50.toFixed(1)} ms p95 ${m.pingP95.toFixed(1)} ms max ${m.pingMax.toFixed(1)} ms`,
    );
    expect(n).toBe(100_000);
    expect(m.maxGapMs).toBeLessThan(2000);
    expect(m.pingP95).toBeLessThan(100);
    expect(await h.ping.remote()).toBe(pid);
  }, 120_000);

  it("stops the replica's generator as soon as the reader leaves its for-await loop", async () => {
    const h = handle();
    const before = await h.stats.remote();
    let n = 0;
    for await (const _ of h.options({ stream: true }).fast.remote(1_000_000, 100)) if (++n === 1000) break;
    const after = await waitUntil(
      async () => {
        const s = await h.stats.remote();
        return s.closed === before.closed + 1 ? s : undefined;
      },
      { timeoutMs: 2000, message: "generator closed after break" },
    );
    // It ran at most a window ahead of the 1,000 chunks read.
    expect(after.produced - before.produced).toBeLessThanOrEqual(1000 + 257);
  });

  it("stops streams cancelled before their STREAM_START arrived (no slot held until the credit timeout)", async () => {
    const h = handle();
    const before = await h.stats.remote();
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      const s = h.options({ stream: true }).fast.remote(1_000_000, 100);
      // Cancel while the request is on its way: the replica starts the stream, the handle has moved on.
      await new Promise((r) => setImmediate(r));
      s.cancel();
    }
    const after = await waitUntil(
      async () => {
        const s = await h.options({ timeoutMs: 1000 }).stats.remote();
        return s.closed - before.closed === s.opened - before.opened ? s : undefined;
      },
      { timeoutMs: 5000, message: "every started generator closed" },
    );
    const ms = Date.now() - started;
    console.log(
      `20 early cancels: ${after.opened - before.opened} generators had started, all closed in ${ms} ms`,
    );
    // Far below the 30 s credit timeout that would otherwise end them.
    expect(ms).toBeLessThan(10_000);
  });

  it("keeps a slow but living reader's stream open past the credit timeout (keepalive credit)", async () => {
    const h = handle("q1");
    const it = h.options({ stream: true }).fast.remote(2000, 100)[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) await it.next();
    // Read nothing for well over the replica's 1.5 s credit timeout.
    await sleep(4000);
    let n = 10;
    for (let r = await it.next(); !r.done; r = await it.next()) n++;
    expect(n).toBe(2000);
  });

  it("ends the stream of a reader process that died, after the credit timeout", async () => {
    const h = handle("q1");
    const before = await h.stats.remote();
    const reader = spawn(process.execPath, [READER, nats.url, "q1"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((r) => reader.once("exit", () => r()));
    try {
      await new Promise<void>((resolve, reject) => {
        reader.stdout.on("data", (d: Buffer) => d.toString().includes("reading") && resolve());
        reader.once("exit", (code) => reject(new Error(`reader exited with ${code}`)));
      });
      await sleep(300);
      // Parked at its window: the reader took 10 chunks.
      expect((await h.stats.remote()).produced - before.produced).toBeLessThanOrEqual(10 + 257);
    } finally {
      reader.kill("SIGKILL");
      await exited;
    }
    const killedAt = Date.now();
    await waitUntil(async () => (await h.stats.remote()).closed === before.closed + 1, {
      timeoutMs: 8000,
      message: "generator closed after the credit timeout",
    });
    const waited = Date.now() - killedAt;
    console.log(`dead reader: stream ended ${waited} ms after SIGKILL (credit timeout 1500 ms)`);
    expect(waited).toBeLessThan(6000);
    expect(await h.ping.remote()).toBe(pidOf(quick, "q1"));
  }, 30_000);
});
