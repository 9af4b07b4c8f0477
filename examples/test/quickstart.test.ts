import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@tsserve/test-utils";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, alive, cleanEnv, headPids, stopPids } from "../../packages/tsserve/test/cli-harness.js";

// scripts/quickstart.sh end to end, minus its first step (scripts/setup.sh installs and builds; the
// test run is already built, and reinstalling under a running suite would pull the floor away).
const parent = mkdtempSync(join(tmpdir(), "tsserve-qs-"));
const stateDir = join(parent, "state");
let pids: number[] = [];

afterAll(async () => {
  await stopPids(pids.filter(alive));
  rmSync(parent, { recursive: true, force: true });
}, 60_000);

function quickstart(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      "bash",
      ["scripts/quickstart.sh"],
      { cwd: ROOT, env, timeout: 180_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === "number" ? err.code : 1,
          out: stdout + stderr,
        }),
    );
    // Record the head's pids as soon as they exist, for cleanup if the script dies midway.
    const timer = setInterval(() => (pids = headPids(stateDir).length > 0 ? headPids(stateDir) : pids), 200);
    child.once("exit", () => clearInterval(timer));
  });
}

describe("scripts/quickstart.sh", () => {
  it("starts, deploys chat, shows each session's history and status, and shuts down", async () => {
    const { code, out } = await quickstart(
      cleanEnv({
        TSSERVE_QUICKSTART_SKIP_SETUP: "1",
        TSSERVE_NATS_PORT: "0",
        // Any free port, chosen by the head as it binds: a port picked here beforehand could be
        // taken by another test's server before the head binds it.
        TSSERVE_QUICKSTART_HTTP_PORT: "0",
        TSSERVE_QUICKSTART_STATE_DIR: stateDir,
      }),
    );
    expect(code, out).toBe(0);
    expect(out).toMatch(/tsserve head running/);
    expect(out).toMatch(/^chat: HEALTHY \(Chat ×4/m);
    expect([...out.matchAll(/^user_\d+\s+Chat-\w+\s+3\s+new$/gm)]).toHaveLength(16);
    expect(out).toMatch(/every turn saw its session's history/);
    expect(out).toMatch(/"session":"user_1","turns":4/);
    expect(out).toMatch(/chat\s+\/chat\s+Chat \(ingress\)\s+HEALTHY\s+4\/4/);
    expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(join(stateDir, "address"))).toBe(false);
  }, 200_000);

  it("cleans up what it started when a step fails", async () => {
    // An HTTP port that is already taken makes `tsserve start` fail after nats-server started.
    const busy = await freePort();
    const { createServer } = await import("node:net");
    const blocker = createServer().listen(busy, "127.0.0.1");
    try {
      const dir = join(parent, "failing");
      const { code, out } = await quickstart(
        cleanEnv({
          TSSERVE_QUICKSTART_SKIP_SETUP: "1",
          TSSERVE_NATS_PORT: "0",
          TSSERVE_QUICKSTART_HTTP_PORT: String(busy),
          TSSERVE_QUICKSTART_STATE_DIR: dir,
        }),
      );
      expect(code).not.toBe(0);
      expect(out).toMatch(/tsserve start: /);
      expect(out).toMatch(new RegExp(String(busy)));
      expect(existsSync(join(dir, "head-process.json"))).toBe(false);
      expect(existsSync(join(dir, "nats.pid"))).toBe(false);
    } finally {
      blocker.close();
    }
  }, 200_000);
});
