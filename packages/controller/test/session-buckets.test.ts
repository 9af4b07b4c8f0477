import { connect, nanos, type NatsConnection } from "nats";
import { describe, expect, it } from "vitest";
import {
  resolveDeploymentOptions,
  sessionBucketName,
  sessionKey,
  type ApplicationSpec,
} from "@tsserve/protocol/internal";
import { sleep, startNatsServer, waitUntil } from "@tsserve/test-utils";
import { resolveControllerOptions } from "../src/controller/controller-options.js";
import { ensureSessionBuckets, type SessionBucketHost } from "../src/controller/session-buckets.js";

const PREFIX = "sbk";

function app(sessionState: unknown): ApplicationSpec {
  return {
    name: "chat",
    routePrefix: null,
    importPath: "./app.ts#app",
    cwd: "/",
    ingress: "Chat",
    deployments: [{ config: resolveDeploymentOptions({ sessionState }, "Chat"), codeVersion: "v1" }],
  };
}

function host(nc: NatsConnection, lines: string[]): SessionBucketHost {
  return {
    natsConnection: nc,
    opts: resolveControllerOptions({ address: "nats://unused", prefix: PREFIX }),
    log: (l) => lines.push(l),
  };
}

const STREAM = `KV_${sessionBucketName(PREFIX, "chat", "Chat")}`;

describe("session state buckets", () => {
  it("expire a durable session no write touched for ttlS, and keep one rewritten within it", async () => {
    await using nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    try {
      const lines: string[] = [];
      await ensureSessionBuckets(host(nc, lines), [app({ mode: "durable", ttlS: 2 })]);
      expect(lines.join("\n")).toMatch(/ready \(1 replica, max_age 2 s\)/);
      const kv = await nc.jetstream().views.kv(sessionBucketName(PREFIX, "chat", "Chat"), { bindOnly: true });
      const idle = sessionKey("idle");
      const busy = sessionKey("busy");
      const t0 = Date.now();
      await kv.put(idle, new Uint8Array([1]));
      let rev = await kv.put(busy, new Uint8Array([1]));
      // The busy session is written every 0.5 s (each write starts its age again) for 3.5 s,
      // longer than ttlS; the idle one is never written again and must be gone by then.
      while (Date.now() - t0 < 3500) {
        await sleep(500);
        rev = await kv.update(busy, new Uint8Array([2]), rev);
      }
      await waitUntil(async () => (await kv.get(idle)) === null, {
        timeoutMs: 10_000,
        message: "idle record expired",
      });
      expect((await kv.get(busy))?.revision).toBe(rev);
      // Then idle too: it goes within ttlS (+ the server's expiry tick).
      const stopped = Date.now();
      await waitUntil(async () => (await kv.get(busy)) === null, {
        timeoutMs: 10_000,
        message: "busy record expired",
      });
      expect(Date.now() - stopped).toBeGreaterThan(1000);
    } finally {
      await nc.close();
    }
  }, 30_000);

  it("follow a changed ttlS or mode on the next deploy, and never age a memory-mode bucket", async () => {
    await using nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      const maxAge = async (): Promise<number> => (await jsm.streams.info(STREAM)).config.max_age;
      const lines: string[] = [];
      const h = host(nc, lines);

      await ensureSessionBuckets(h, [app({ mode: "memory", ttlS: 2 })]);
      expect(await maxAge(), "memory mode: records of live owners are not rewritten per call").toBe(0);

      await ensureSessionBuckets(h, [app({ mode: "durable", ttlS: 2 })]);
      expect(await maxAge()).toBe(nanos(2000));
      expect(lines).toContain(`session state bucket ${STREAM.slice(3)}: max_age now 2 s`);

      await ensureSessionBuckets(h, [app({ mode: "durable", ttlS: 300 })]);
      expect(await maxAge()).toBe(nanos(300_000));
      const info = await jsm.streams.info(STREAM);
      expect(info.config.duplicate_window).toBeLessThanOrEqual(info.config.max_age);

      lines.length = 0;
      await ensureSessionBuckets(h, [app({ mode: "durable", ttlS: 300 })]);
      expect(
        lines.filter((l) => /max_age now/.test(l)),
        "unchanged: no update",
      ).toEqual([]);

      await ensureSessionBuckets(h, [app({ mode: "durable" })]);
      expect(await maxAge(), "ttlS 0 = never").toBe(0);
      await ensureSessionBuckets(h, [app({ mode: "durable", ttlS: 2 })]);
      await ensureSessionBuckets(h, [app({ mode: "memory", ttlS: 2 })]);
      expect(await maxAge(), "back to memory mode: no age").toBe(0);
    } finally {
      await nc.close();
    }
  }, 30_000);
});
