import { connect } from "nats";
import { describe, expect, it } from "vitest";
import { startNatsServer } from "../src/index.js";

describe("startNatsServer", () => {
  it("runs a real server on a loopback port and stops it by PID", async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const sub = nc.subscribe("ping");
    void (async () => {
      for await (const m of sub) m.respond(new TextEncoder().encode("pong"));
    })();
    const reply = await nc.request("ping", new Uint8Array(), { timeout: 2000 });
    expect(new TextDecoder().decode(reply.data)).toBe("pong");
    await nc.close();
    const pid = server.pid;
    await server.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
