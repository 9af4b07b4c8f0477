/**
 * Streaming throughput for a fast consumer: chunks per second through a DeploymentHandle stream
 * (one replica process, a generator that yields without awaiting), beside raw NATS publish →
 * subscribe of as many messages of the same size between two connections in the same run.
 *
 *   pnpm build && npx tsx bench/stream-throughput.ts [chunks=200000] [sizes=100,1024] [runs=3]
 *
 * Prints one line per size with the median of `runs`; the ratio is tsserve / raw.
 */
import { fileURLToPath } from "node:url";
import { connect as natsConnect } from "nats";
import { connect, staticMembership } from "@tsserve/handle";
import { startNatsServer } from "@tsserve/test-utils";
import { startLocalReplicas } from "./harness/local-replicas.js";

const n = Number(process.argv[2] ?? 200_000);
const sizes = (process.argv[3] ?? "100,1024").split(",").map(Number);
const runs = Number(process.argv[4] ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function rawNats(url: string, count: number, size: number): Promise<number> {
  const pub = await natsConnect({ servers: url, noAsyncTraces: true });
  const sub = await natsConnect({ servers: url, noAsyncTraces: true });
  const payload = new Uint8Array(size + 8);
  let got = 0;
  const done = new Promise<void>((resolve) => {
    sub.subscribe("raw.stream", { callback: () => ++got === count && resolve() });
  });
  await sub.flush();
  const t0 = performance.now();
  // Publish in slices so the publisher's buffer drains the way a replica's does.
  for (let i = 0; i < count; i++) {
    pub.publish("raw.stream", payload);
    if (i % 256 === 255) await new Promise((r) => setImmediate(r));
  }
  await done;
  const rate = count / ((performance.now() - t0) / 1000);
  await pub.close();
  await sub.close();
  return rate;
}

async function main(): Promise<void> {
  await using nats = await startNatsServer({ jetstream: false });
  const local = await startLocalReplicas({
    address: nats.url,
    app: "bench",
    deployment: "Streamer",
    importPath: "fixtures/bench-apps.ts#streamer",
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    count: 1,
  });
  const client = await connect({ address: nats.url });
  try {
    const h = client.getDeploymentHandle("Streamer", {
      app: "bench",
      membership: staticMembership({ replicas: local.replicas }),
    });
    for (const size of sizes) {
      const ours: number[] = [];
      const raw: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        let got = 0;
        for await (const _ of h.options({ stream: true, method: "chunks" }).remote(n, size)) got++;
        if (got !== n) throw new Error(`expected ${n} chunks, got ${got}`);
        ours.push(n / ((performance.now() - t0) / 1000));
        raw.push(await rawNats(nats.url, n, size));
      }
      const o = median(ours);
      const w = median(raw);
      console.log(
        `${n} × ${size} B: tsserve ${Math.round(o)} chunks/s, raw NATS ${Math.round(w)} msg/s, ratio ${(o / w).toFixed(2)} (median of ${runs})`,
      );
    }
  } finally {
    await client.close();
    await local.stop();
  }
}

await main();
