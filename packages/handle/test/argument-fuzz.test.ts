import { isTsserveError } from "@tsserve/protocol";
import { startNats, type NatsFixture, seededRandom } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, staticMembership, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { startReplicas, type ReplicaGroup } from "./helpers/replicas.js";

/** Random call arguments, including everything the wire cannot carry. */
function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number): number => Math.floor(rand() * n);
  const leaf = (): unknown =>
    pick<() => unknown>([
      () => int(1000) - 500,
      () => rand() * 1e300,
      () => pick([NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE]),
      () => "é😀\u0000\uffff".repeat(int(20)),
      () => "x".repeat(int(300_000)),
      () => "y".repeat(900_000 + int(300_000)), // near and over max_payload, as argument or as echoed reply
      () => pick([true, false, null, undefined]),
      () => BigInt(int(1_000_000)) * pick([1n, -1n]),
      () => 2n ** BigInt(64 + int(100)),
      () => Symbol(`s${int(10)}`),
      () => () => 42,
      () => new Uint8Array(int(1000)).fill(7),
      () => new Float64Array([rand(), NaN, -0]),
      () => new Int32Array(int(100)),
      () => new DataView(new ArrayBuffer(int(64))),
      () => new ArrayBuffer(int(64)),
      () => new Date(int(2 ** 40)),
      () => new Date(NaN),
      () => /re+g[ex]/giu,
      () => new Error("an error as a value"),
      () =>
        new Map<unknown, unknown>([
          [int(5), "v"],
          ["k", [1, 2]],
        ]),
      () => new Set([1, "a", null]),
      () =>
        JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}') as unknown,
      () => ({ toString: "not a function", valueOf: 3, hasOwnProperty: null }),
      // eslint-disable-next-line no-sparse-arrays -- a sparse array is one of the cases
      () => [1, , 3],
      () => ({
        get boom(): never {
          throw new Error("getter threw");
        },
      }),
      () =>
        new Proxy(
          {},
          {
            ownKeys() {
              throw new Error("ownKeys trap threw");
            },
          },
        ),
      () => Promise.resolve(1),
      () => new WeakMap(),
    ])();
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 6 || r < 0.45) return leaf();
    if (r < 0.6) return Array.from({ length: int(6) }, () => value(depth + 1));
    if (r < 0.75)
      return Object.fromEntries(Array.from({ length: int(6) }, (_, i) => [`k${i}`, value(depth + 1)]));
    if (r < 0.82) {
      // A cycle somewhere inside.
      const o: Record<string, unknown> = { v: value(depth + 1) };
      o["loop"] = [o];
      return o;
    }
    if (r < 0.88) {
      let v: unknown = leaf();
      for (let i = 0, n = pick([10, 500, 5000, 50_000]); i < n; i++) v = [v];
      return v;
    }
    // Two references to one object (a DAG, not a cycle): must go through.
    const shared = { s: leaf() };
    return [shared, { again: shared }];
  };
  return () => Array.from({ length: int(4) }, () => value(0));
}

describe("handle argument fuzz (real replica process)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let client: Client;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["f1"], options: { maxOngoingRequests: 16 } });
    client = await connect({ address: nats.url });
  });
  afterAll(async () => {
    await client?.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("answers every random call with a value or a typed tsserve error; nothing hangs; the replica keeps serving", async () => {
    const seed = Number(process.env["FUZZ_SEED"] ?? 12);
    const nextArgs = generator(seededRandom(seed));
    const h = client.getDeploymentHandle<Echo>("Echo", {
      app: "app",
      membership: staticMembership({ replicas: replicas.infos }),
    });
    const pid = await h.pid.remote();
    const outcomes = new Map<string, number>();
    const untyped: string[] = [];
    const CALLS = 300;
    for (let batch = 0; batch < CALLS / 20; batch++) {
      const calls = Array.from({ length: 20 }, (_, i) => {
        const args = nextArgs();
        const o = h.options({ timeoutMs: 10_000, method: i % 2 === 0 ? "types" : "__call__" });
        return o.remote(...(args as [unknown]));
      });
      for (const r of await Promise.allSettled(calls)) {
        let key: string;
        if (r.status === "fulfilled") key = "ok";
        else if (isTsserveError(r.reason)) key = `${r.reason.name}:${r.reason.code}`;
        else {
          key = "untyped";
          untyped.push(String(r.reason));
        }
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    console.log(
      `argument fuzz (seed ${seed}, ${CALLS} calls): ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    expect(untyped).toEqual([]);
    // No call waited for its timeout: each was answered or refused at once.
    expect(outcomes.get("RequestTimeoutError:TIMEOUT") ?? 0).toBe(0);
    expect(outcomes.get("ok") ?? 0).toBeGreaterThan(50);
    expect(outcomes.get("BadRequestError:BAD_REQUEST") ?? 0).toBeGreaterThan(10);
    // Same process, still serving.
    expect(await h.pid.remote()).toBe(pid);
    expect(await h.reply.remote("after the fuzz")).toBe("reply:after the fuzz");
  }, 120_000);
});
