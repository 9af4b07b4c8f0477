import { runBenchScript } from "../harness/run-script.js";
import type { Row, Suite, SuiteContext, SuiteResult, TargetCheck } from "../harness/suite.js";

/** What bench/control-plane-bench.ts writes to results/control-plane.json (the fields used here). */
interface ControlPlaneJson {
  readyToRoutable?: {
    samples: number;
    readyToRoutableMs: { p50: number; p90: number; p99: number; max: number };
    targetP99Ms: number;
    raw: number[];
  };
  readyToRoutableError?: string;
  membership1000?: {
    replicas: number;
    deployToFullSetMs: number;
    broadcastBytes: number;
    encodeMs: number;
    decodeMs: number;
    publishToReceiveMs: number;
  };
  membership1000Error?: string;
}

/** What bench/ring-bench.ts writes to results/ring.json (the fields used here). */
interface RingJson {
  ring: { replicas: number; virtualNodes: number; points: number };
  lookupNs: { hashNs: number; ownerNs: number; chooseReplicasNs: number; chooseReplicasLoadBoundNs: number };
  rebuildMs: { initialMs: number; joinMs: number; leaveMs: number };
}

const RING_JOIN_TARGET_MS = 20;

/** A measured value as table text with fixed decimals (values of mixed units share one column). */
const ms = (n: number, digits = 2): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  let samples: number[] = [];
  // Both scripts start their own local servers; with --address they still measure locally (their
  // fake 1,000-replica agent must not join a real cluster).
  if (ctx.address !== null)
    notes.push("`--address` is ignored here: the control-plane scripts start private local clusters.");
  try {
    const cp = await runBenchScript<ControlPlaneJson>({
      benchDir: ctx.benchDir,
      script: "control-plane-bench.ts",
      args: ctx.quick ? ["--quick"] : [],
      output: "results/control-plane.json",
      timeoutMs: ctx.quick ? 90_000 : 180_000,
      log: ctx.log,
    });
    if (cp.readyToRoutable) {
      const r = cp.readyToRoutable.readyToRoutableMs;
      samples = cp.readyToRoutable.raw;
      rows.push(
        {
          measure: `READY → routable at a handle, p50 (${cp.readyToRoutable.samples} new replicas)`,
          value: ms(r.p50),
          unit: "ms",
        },
        { measure: "READY → routable, p99", value: ms(r.p99), unit: "ms" },
        { measure: "READY → routable, max", value: ms(r.max), unit: "ms" },
      );
      targets.push({
        name: "READY → routable p99",
        target: `≤ ${cp.readyToRoutable.targetP99Ms} ms`,
        measured: `${r.p99.toFixed(2)} ms`,
        met: r.p99 <= cp.readyToRoutable.targetP99Ms,
      });
    } else notes.push(`READY → routable failed: ${cp.readyToRoutableError ?? "no result"}`);
    const m = cp.membership1000;
    if (m) {
      rows.push(
        {
          measure: `membership broadcast of ${m.replicas} replicas: size`,
          value: m.broadcastBytes.toLocaleString("en-US"),
          unit: "bytes",
        },
        {
          measure: "encode / decode one broadcast",
          value: `${m.encodeMs.toFixed(2)} / ${m.decodeMs.toFixed(2)}`,
          unit: "ms",
        },
        {
          measure: "publish → receive one broadcast through nats-server (the limit)",
          value: ms(m.publishToReceiveMs),
          unit: "ms",
        },
        {
          measure: `deploy → ${m.replicas}-replica RUNNING set received`,
          value: ms(m.deployToFullSetMs, 0),
          unit: "ms",
        },
      );
    } else notes.push(`1,000-replica membership failed: ${cp.membership1000Error ?? "no result"}`);
  } catch (e) {
    notes.push(`control-plane-bench.ts failed: ${(e as Error).message.split("\n")[0]}`);
  }
  try {
    const ring = await runBenchScript<RingJson>({
      benchDir: ctx.benchDir,
      script: "ring-bench.ts",
      output: "results/ring.json",
      timeoutMs: 120_000,
      log: ctx.log,
    });
    const size = `${ring.ring.replicas} replicas × ${ring.ring.virtualNodes} points`;
    rows.push(
      { measure: `ring initial build, ${size}`, value: ms(ring.rebuildMs.initialMs), unit: "ms" },
      { measure: "ring rebuild: one replica joins", value: ms(ring.rebuildMs.joinMs), unit: "ms" },
      { measure: "ring rebuild: one replica leaves", value: ms(ring.rebuildMs.leaveMs), unit: "ms" },
      {
        measure: "chooseReplicas (owner + 2 fallbacks)",
        value: ms(ring.lookupNs.chooseReplicasNs, 0),
        unit: "ns",
      },
      {
        measure: "chooseReplicas with loadBound 1.25",
        value: ms(ring.lookupNs.chooseReplicasLoadBoundNs, 0),
        unit: "ns",
      },
    );
    const join = ring.rebuildMs.joinMs;
    targets.push({
      name: `ring rebuild when one replica joins ${ring.ring.replicas}`,
      target: `≤ ${RING_JOIN_TARGET_MS} ms`,
      measured: `${join.toFixed(2)} ms`,
      met: join <= RING_JOIN_TARGET_MS,
      ...(join <= RING_JOIN_TARGET_MS
        ? {}
        : { note: "the merge rebuild allocates the full typed arrays; reusing them would close it" }),
    });
  } catch (e) {
    notes.push(`ring-bench.ts failed: ${(e as Error).message.split("\n")[0]}`);
  }
  if (rows.length === 0) throw new Error(`control suite measured nothing: ${notes.join("; ")}`);
  return {
    summary:
      "Runs the two standalone scripts and collects their numbers: `control-plane-bench.ts` (a real local cluster scales a " +
      "deployment up one replica at a time and times each new replica from its READY heartbeat to the moment a " +
      "controller-backed handle can route to it; then a fake agent hosts 1,000 replica ids so the real controller builds " +
      "and broadcasts a 1,000-replica RUNNING set) and `ring-bench.ts` (ConsistentHash ring build, rebuild and lookup at " +
      "1,000 replicas). Their raw JSON stays in `results/control-plane.json` and `results/ring.json`.",
    config: { quick: ctx.quick },
    columns: [
      { key: "measure", label: "measure" },
      { key: "value", label: "value" },
      { key: "unit", label: "unit" },
    ],
    rows,
    targets,
    charts: samples.length
      ? [
          {
            name: "ready-to-routable",
            title: "READY → routable, every new replica",
            spec: {
              $schema: "https://vega.github.io/schema/vega-lite/v6.json",
              title: "READY → routable per new replica (ms)",
              data: { values: samples.map((ms, i) => ({ replica: i + 1, ms })) },
              mark: { type: "bar" },
              encoding: {
                x: { field: "replica", type: "ordinal", title: "new replica (in order)" },
                y: { field: "ms", type: "quantitative", title: "ms from READY to routable" },
              },
            },
          },
        ]
      : [],
    notes: [
      ...notes,
      "Small negative READY → routable samples are clock skew between two processes' timestamps: the handle saw the replica in the same millisecond.",
    ],
  };
}

/** Suite 6: the control plane's speed, via the standalone control-plane and ring scripts. */
export const controlSuite: Suite = {
  name: "control",
  title: "6. Control plane",
  question:
    "How fast does a new replica become routable after READY, and what do membership and the ring cost at 1,000 replicas?",
  run,
};
