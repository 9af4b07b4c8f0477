import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { ReplicaSpec } from "@tsserve/protocol/internal";
import { ReplicaChild } from "../src/replica-child.js";

// A process that ignores SIGTERM (a replica stuck in its drain) and says so on stderr.
const STUBBORN = `process.on("SIGTERM", () => console.error("ignoring SIGTERM")); console.error("up"); setInterval(() => {}, 1000);`;

function stubborn(): ReplicaChild {
  const child = spawn(process.execPath, ["-e", STUBBORN], { stdio: ["ignore", "ignore", "pipe"] });
  const spec = { replicaId: "r", app: "a", deployment: "D" } as ReplicaSpec;
  return new ReplicaChild(spec, child, 10, false);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("ReplicaChild", () => {
  it("escalates a graceful stop to SIGKILL after the timeout", async () => {
    const rc = stubborn();
    await until(() => rc.stderrTail().includes("up"));
    const t0 = Date.now();
    const exit = await rc.stop(true, 300);
    expect(exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(rc.stderrTail()).toBe("up\nignoring SIGTERM");
    expect(rc.hasExited).toBe(true);
  });

  it("lets a later non-graceful stop cut the wait short", async () => {
    const rc = stubborn();
    await until(() => rc.stderrTail().includes("up"));
    void rc.stop(true, 60_000);
    const t0 = Date.now();
    expect(await rc.stop(false, 0)).toEqual({ code: null, signal: "SIGKILL" });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("never extends an earlier deadline", async () => {
    const rc = stubborn();
    await until(() => rc.stderrTail().includes("up"));
    const t0 = Date.now();
    void rc.stop(true, 200);
    await rc.stop(true, 60_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(rc.describe()).toMatchObject({
      replicaId: "r",
      app: "a",
      deployment: "D",
      pid: expect.any(Number),
    });
  });
});
