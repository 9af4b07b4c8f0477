import { setImmediate as turn } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { DeploymentResponse } from "./deployment-response.js";

describe("DeploymentResponse", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
    unhandled.length = 0;
  });

  it("gives its value to every awaiter and then chain, and settles once", async () => {
    const r = new DeploymentResponse<number>();
    expect(String(r)).toBe("[object DeploymentResponse]");
    r.resolve(7);
    r.resolve(8);
    r.reject(new Error("late"));
    expect(await r).toBe(7);
    expect(await r.then((v) => v * 2)).toBe(14);
    expect(await r.finally(() => {})).toBe(7);
    expect(await r.result({ timeoutMs: 50 })).toBe(7);
  });

  it("rejects for every awaiter, and a fire-and-forget failure raises no unhandled rejection", async () => {
    process.on("unhandledRejection", onUnhandled);
    const forgotten = new DeploymentResponse<number>();
    forgotten.reject(new Error("nobody waits"));
    const awaited = new DeploymentResponse<number>();
    const first = awaited.catch((e: unknown) => (e as Error).message);
    awaited.reject(new Error("boom"));
    await turn();
    await turn();
    expect(unhandled).toEqual([]);
    expect(await first).toBe("boom");
    // Awaited after it failed: the error is still there.
    await expect(awaited).rejects.toThrow("boom");
    await expect(forgotten).rejects.toThrow("nobody waits");
  });
});
