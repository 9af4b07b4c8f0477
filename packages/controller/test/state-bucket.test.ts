import { describe, expect, it } from "vitest";
import { isConfigError } from "@tsserve/protocol";
import { startNatsServer } from "@tsserve/test-utils";
import { Controller } from "../src/controller/controller.js";

describe("the controller's state bucket", () => {
  it("fails at once with a clear error when the NATS server runs without JetStream", async () => {
    await using nats = await startNatsServer({ jetstream: false });
    const lines: string[] = [];
    const controller = new Controller({ address: nats.url, prefix: "nojs", log: (l) => lines.push(l) });
    const t0 = Date.now();
    const err = await controller.start().catch((e: unknown) => e);
    await controller.stop().catch(() => undefined);
    // Not the minute a forming cluster gets: a server without JetStream will not grow one.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(isConfigError(err), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/has no JetStream.*-js/);
    expect(lines.filter((l) => /not ready yet/.test(l))).toEqual([]);
  });
});
