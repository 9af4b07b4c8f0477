import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { afterAll, describe, expect, it } from "vitest";
import { isConfigError } from "@tsserve/protocol";
import { freePort } from "@tsserve/test-utils";
import { findNatsServer } from "../src/embedded-nats.js";
import { pidAlive } from "../src/pid-utils.js";
import { startEmbeddedNats } from "../src/index.js";

describe("embedded nats-server launcher", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-state-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("starts with JetStream, accepts connections, writes its pid, and stops by pid", async () => {
    const port = await freePort();
    const server = await startEmbeddedNats({ stateDir, port });
    expect(server.url).toBe(`nats://127.0.0.1:${port}`);
    expect(readFileSync(join(stateDir, "nats.pid"), "utf8").trim()).toBe(String(server.pid));

    const nc = await connect({ servers: server.url });
    // JetStream is on: the controller's KV checkpoint depends on it.
    const kv = await nc.jetstream().views.kv("launcher_test");
    await kv.put("k", "v");
    expect((await kv.get("k"))?.string()).toBe("v");
    await nc.close();
    expect(existsSync(join(stateDir, "nats", "jetstream"))).toBe(true);

    await server.stop();
    expect(pidAlive(server.pid)).toBe(false);
    expect(existsSync(server.pidFile)).toBe(false);
  });

  it("falls back to a free port when the requested one is taken", async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", r));
    try {
      await using server = await startEmbeddedNats({ stateDir, port });
      expect(server.port).not.toBe(port);
      const nc = await connect({ servers: server.url });
      await nc.close();
    } finally {
      blocker.close();
    }
  });

  it("says how to install nats-server when the binary is missing", async () => {
    const err = await startEmbeddedNats({ stateDir, binary: "/nonexistent/nats-server" }).catch(
      (e: unknown) => e,
    );
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toBe(
      "nats-server not found: install it with `apt-get install -y nats-server` (tried /nonexistent/nats-server)",
    );
    expect(() => findNatsServer("/nonexistent/nats-server")).toThrow(/nats-server not found/);
  });
});
