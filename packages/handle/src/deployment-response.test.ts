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

  it("runs a then registered before it settles like a promise's: chained, once, in order", async () => {
    const order: string[] = [];
    const a = new DeploymentResponse<number>();
    const b = new DeploymentResponse<number>();
    const doubled = a.then((v) => v * 2);
    // Registered after the first then: runs after it, through the response's own promise.
    const late = a.then((v) => order.push(`a-late:${v}`));
    const chained = b.then((v) => {
      order.push(`b:${v}`);
      return Promise.resolve(v + 1);
    });
    const passed = new DeploymentResponse<string>();
    const through = passed.then();
    b.resolve(2);
    a.resolve(3);
    passed.resolve("x");
    // Not synchronously: then callbacks always run later.
    expect(order).toEqual([]);
    const afterSettled = a.then((v) => order.push(`a-first-settled:${v}`));
    expect(await doubled).toBe(6);
    expect(await chained).toBe(3);
    expect(await through).toBe("x");
    await late;
    await afterSettled;
    expect(order.slice(0, 2)).toEqual(["b:2", "a-late:3"]);
    expect(order).toContain("a-first-settled:3");
  });

  it("rejects a first then's promise with what its callback throws, or passes a failure on", async () => {
    process.on("unhandledRejection", onUnhandled);
    const r = new DeploymentResponse<number>();
    const thrown = r.then(() => {
      throw new Error("from the callback");
    });
    r.resolve(1);
    await expect(thrown).rejects.toThrow("from the callback");
    const failed = new DeploymentResponse<number>();
    const recovered = failed.then(
      () => "never",
      (e: unknown) => `recovered ${(e as Error).message}`,
    );
    failed.reject(new Error("boom"));
    expect(await recovered).toBe("recovered boom");
    // then(onfulfilled) without onrejected: its promise rejects, and nobody handling it is reported.
    const unhandledOne = new DeploymentResponse<number>();
    void unhandledOne.then((v) => v);
    unhandledOne.reject(new Error("nobody handles this"));
    await turn();
    await turn();
    expect(unhandled.map((e) => (e as Error).message)).toEqual(["nobody handles this"]);
  });

  it("gives await its value or error when it settles later", async () => {
    const ok = new DeploymentResponse<number>();
    const bad = new DeploymentResponse<number>();
    setTimeout(() => {
      ok.resolve(5);
      bad.reject(new Error("late failure"));
    }, 5);
    expect(await ok).toBe(5);
    await expect(bad).rejects.toThrow("late failure");
  });
});
