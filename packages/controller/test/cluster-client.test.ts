import { describe, expect, it } from "vitest";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  encode,
  errorToWire,
  type ControllerReply,
} from "@tsserve/protocol/internal";
import { DeploymentNotFoundError, UnavailableError, isDeploymentNotFoundError } from "@tsserve/protocol";
import { startNats, startNatsServer } from "@tsserve/test-utils";
import { ControllerClient } from "../src/controller-client.js";

describe("ControllerClient", () => {
  it("raises UnavailableError quickly when no controller answers", async () => {
    await using nats = await startNatsServer({ jetstream: false });
    await using client = await ControllerClient.connect({ address: nats.url, prefix: "nobody" });
    const t0 = Date.now();
    const err = await client.status().catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThanOrEqual(2000);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(
      `no tsserve controller is answering on ${nats.url} (prefix nobody); start one with \`tsserve start\``,
    );
  });

  it("raises UnavailableError naming the address when NATS itself is down", async () => {
    const nats = await startNatsServer({ jetstream: false });
    const url = nats.url;
    await nats.stop();
    const err = await ControllerClient.connect({ address: url, connectTimeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`cannot reach NATS at ${url}`);
  });

  it("returns values and rebuilds typed errors from a controller's replies", async () => {
    await using nats = await startNats({ jetstream: false });
    // A stand-in controller: this test is about the client's wire handling, not the controller.
    const nc = nats.nc;
    const seen: unknown[] = [];
    nc.subscribe(controllerSubject("p", CONTROLLER_OPS.members), {
      callback: (_e, m) => {
        seen.push(decode(m.data));
        const reply: ControllerReply<null> = {
          ok: false,
          error: errorToWire(new DeploymentNotFoundError('deployment "x/Y" not found')),
        };
        m.respond(encode(reply));
      },
    });
    nc.subscribe(controllerSubject("p", CONTROLLER_OPS.status), {
      callback: (_e, m) => m.respond(encode({ ok: true, value: { applications: [], nodes: [] } })),
    });
    nc.subscribe(controllerSubject("p", CONTROLLER_OPS.delete), {
      callback: (_e, m) => m.respond(encode({ nonsense: 1 })),
    });
    await nc.flush();
    try {
      await using client = await ControllerClient.connect({ address: nats.url, prefix: "p" });
      expect(await client.status()).toEqual({ applications: [], nodes: [] });
      const err = await client.members("x", "Y").catch((e: unknown) => e);
      expect(isDeploymentNotFoundError(err)).toBe(true);
      expect((err as Error).message).toBe('deployment "x/Y" not found');
      expect(seen).toEqual([{ app: "x", deployment: "Y" }]);
      await expect(client.delete("x")).rejects.toThrow(/controller delete: malformed reply/);
    } finally {
      await nc.close();
    }
  });
});
