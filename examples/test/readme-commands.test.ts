import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@tsserve/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, ROOT, alive, cleanEnv, headPids, stopPids } from "../../packages/tsserve/test/cli-harness.js";

// Each example's README is run as written: its ```sh blocks, in order, in one bash from the repo
// root. Two substitutions keep the run from colliding with anything else on the machine: the
// HTTP port (8000 in the README) becomes a free port, passed to `tsserve start` through
// TSSERVE_HTTP_PORT, and TSSERVE_NATS_PORT=0 gives the embedded nats-server a free port; `tsserve` resolves through examples/node_modules/.bin, or a shim on PATH
// when the workspace was installed before the CLI was built (pnpm links bins only to existing files).

const STATE_DIR = join(ROOT, "examples/.tsserve");
// A README starts a head, spawns replicas with tsx and drains them again: tens of seconds on 2 busy cores.
const TEST_TIMEOUT_MS = 200_000;
// chat's README deploys three times (a scale to 6, a rolling update of 6 replicas) and kills one:
// 31-102 s in runs on 2 cores loaded by other builds.
const CHAT_SCRIPT_TIMEOUT_MS = 280_000;

function shBlocks(readme: string): string {
  const text = readFileSync(join(ROOT, "examples", readme, "README.md"), "utf8");
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length, `${readme}/README.md has a sh block`).toBeGreaterThan(0);
  return blocks.join("\n");
}

function shimDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsserve-shim-"));
  writeFileSync(join(dir, "tsserve"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, {
    mode: 0o755,
  });
  return dir;
}

async function runReadme(readme: string, timeoutMs = 180_000): Promise<string> {
  const port = await freePort();
  const grpcPort = await freePort();
  // The gRPC example's port (9000 in its README) gets a free one too.
  const script = shBlocks(readme)
    .replaceAll("localhost:8000", `localhost:${port}`)
    .replaceAll("--grpc-port 9000", `--grpc-port ${grpcPort}`)
    .replaceAll("localhost:9000", `localhost:${grpcPort}`);
  const shim = shimDir();
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        "bash",
        ["-euo", "pipefail", "-c", script],
        {
          cwd: ROOT,
          timeout: timeoutMs,
          env: cleanEnv({
            TSSERVE_HTTP_PORT: String(port),
            TSSERVE_NATS_PORT: "0",
            PATH: `${process.env["PATH"]}:${shim}`,
          }),
        },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${readme} README failed (${err.message}):\n${stdout}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
  } finally {
    rmSync(shim, { recursive: true, force: true });
  }
}

afterEach(async () => {
  // A README run that failed midway leaves its head up: stop it by the pids it recorded.
  await stopPids(headPids(STATE_DIR).filter(alive));
  rmSync(STATE_DIR, { recursive: true, force: true });
}, 60_000);

describe("example READMEs run as written", () => {
  it(
    "01 echo: deploys, answers calls and HTTP with the replica id, shuts down",
    async () => {
      const out = await runReadme("echo");
      expect(out).toMatch(/tsserve head running/);
      expect(out).toMatch(/^echo: HEALTHY \(Echo ×2; ingress Echo; HTTP \/echo; code [0-9a-f]+\)$/m);
      expect(out).toMatch(/"replica": "Echo-\w+",\n\s+"session": null,\n\s+"input": "hello"/);
      expect(out).toMatch(/"Hello, Ada! \(from Echo-\w+\)"/);
      const chunks = [...out.matchAll(/^\{"i":(\d),"replica":"(Echo-\w+)"\}$/gm)];
      expect(chunks.map((m) => m[1])).toEqual(["1", "2", "3"]);
      expect(new Set(chunks.map((m) => m[2])).size).toBe(1);
      expect(out).toMatch(/\{"replica":"Echo-\w+","session":"u1","input":\{"msg":"hi"\}\}/);
      expect(out).toMatch(/Echo \(ingress\)\s+HEALTHY\s+2\/2/);
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
      expect(existsSync(join(STATE_DIR, "address"))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "02 chat: a session's history survives a scale 4 → 6, deploy --force and kill -9 of its owner",
    async () => {
      // The README scales by editing serve.yaml and puts it back at its end; a run that fails
      // midway must not leave the file changed.
      const yaml = join(ROOT, "examples/chat/serve.yaml");
      const original = readFileSync(yaml, "utf8");
      let out: string;
      try {
        out = await runReadme("chat", CHAT_SCRIPT_TIMEOUT_MS);
      } finally {
        writeFileSync(yaml, original);
      }
      const deployed = [
        ...out.matchAll(/^chat: HEALTHY \(Chat ×(\d); ingress Chat; HTTP \/chat; code ([0-9a-f]+)\)$/gm),
      ];
      expect(
        deployed.map((m) => m[1]),
        out,
      ).toEqual(["4", "6", "6"]);
      const [first, scaled, forced] = deployed.map((m) => m[2]);
      expect(scaled, "the scale only adds replicas: same code, no rolling update").toBe(first);
      expect(forced, "deploy --force rolls a new version").not.toBe(first);

      const rows = [...out.matchAll(/^(user_\d+)\s+(Chat-\w+)\s+(\d+)\s+(new|restored|lost)$/gm)].map(
        (m) => ({
          session: m[1]!,
          replica: m[2]!,
          history: Number(m[3]),
          origin: m[4]!,
        }),
      );
      expect(rows, out).toHaveLength(32);
      const before = rows.slice(0, 16);
      const after = rows.slice(16);
      for (const r of before) expect(r).toMatchObject({ history: 3, origin: "new" });
      expect(out).toMatch(/16 sessions × 3 turns over \d replicas: every turn saw its session's history/);
      const user1 = before.find((r) => r.session === "user_1")!.replica;
      expect(out).toContain(`{"replica":"${user1}","session":"user_1","turns":4,"origin":"new",`);

      // After the scale: every history went on; a session on a new replica was handed over
      // (restored), one left where it was never moved (still new). 16 sessions, a third of the
      // ring moved: all staying put has odds (2/3)^16 ≈ 0.15 %.
      let moved = 0;
      for (const r of after) {
        const was = before.find((b) => b.session === r.session)!;
        expect(r.history, r.session).toBe(r.session === "user_1" ? 7 : 6);
        expect(r.origin, `${r.session}: ${was.replica} → ${r.replica}`).toBe(
          r.replica === was.replica ? "new" : "restored",
        );
        if (r.replica !== was.replica) moved++;
      }
      expect(moved, out).toBeGreaterThan(0);

      const calls = [
        ...out.matchAll(
          /"replica": "(Chat-\w+)",\n\s+"session": "user_1",\n\s+"turns": (\d+),\n\s+"origin": "(\w+)"/g,
        ),
      ];
      expect(calls, out).toHaveLength(2);
      const [afterForce, afterKill] = calls.map((m) => ({ replica: m[1]!, turns: m[2], origin: m[3] }));
      // deploy --force replaced every replica: turn 8 runs on a new one, with the history.
      expect(afterForce).toMatchObject({ turns: "8", origin: "restored" });
      expect(rows.map((r) => r.replica)).not.toContain(afterForce!.replica);
      // The owner's status row (its PID killed), then turn 9 on another replica, loaded from the bucket.
      const ownerRow = /^(Chat-\w+)\s+chat\s+RUNNING\s+\S+\s+(\d+)\s/m.exec(out);
      expect(ownerRow, out).not.toBeNull();
      expect(ownerRow![1]).toBe(afterForce!.replica);
      expect(afterKill).toMatchObject({ turns: "9", origin: "restored" });
      expect(afterKill!.replica).not.toBe(ownerRow![1]);
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    },
    CHAT_SCRIPT_TIMEOUT_MS + 20_000,
  );

  it(
    "03 llm-cache: three routers serve the simulated engine, each hitting its cache often, Scoring level with the best",
    async () => {
      const out = await runReadme("llm-cache");
      expect(out).toMatch(/^llm-hash: HEALTHY/m);
      expect(out).toMatch(/^llm-p2c: HEALTHY/m);
      expect(out).toMatch(/^llm-scoring: HEALTHY/m);
      const hit = (router: string): number => {
        const m = new RegExp(`^${router}\\s+([\\d.]+) %\\s+([\\d.]+) ms\\s+([\\d.]+) ms$`, "m").exec(out);
        expect(m, `${router} row in:\n${out}`).not.toBeNull();
        return Number(m![1]);
      };
      const hash = hit("ConsistentHash");
      const p2c = hit("PowerOfTwoChoices");
      const scoring = hit("Scoring");
      // 4 tenants' system prompts over 4 replicas that can each hold all of them: every router
      // hits often, and which is ahead is this small run's noise (runs: P2C 82.6, CH 82.8,
      // Scoring 86.5 %; and P2C/CH best 83.9, Scoring 81.7 % on a loaded CI machine). So this
      // checks that Scoring is level with the best (within 4 points), not ahead: the gap at scale
      // is the llm-affinity bench's to show.
      for (const h of [hash, p2c]) expect(h).toBeGreaterThan(70);
      expect(scoring).toBeGreaterThan(80);
      expect(scoring).toBeGreaterThanOrEqual(Math.max(hash, p2c) - 4);
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "04 composition: the ingress calls the model through a handle",
    async () => {
      const out = await runReadme("composition");
      expect(out).toMatch(
        /^composition: HEALTHY \(Ingress ×1, Model ×2; ingress Ingress; HTTP \/predict; code [0-9a-f]+\)$/m,
      );
      expect(out).toMatch(/\{"score":3,"modelReplica":"Model-\w+","ingressReplica":"Ingress-\w+"\}/);
      expect(out).toMatch(/"score": 4.5,\n\s+"modelReplica": "Model-\w+"/);
      expect(out).toMatch(
        /\{"error":\{"code":"USER_CODE","name":"UserCodeError","message":"expected a JSON list of numbers.*"remoteName":"TypeError"/,
      );
      expect(out).toMatch(/Ingress \(ingress\)\s+HEALTHY\s+1\/1/);
      expect(out).toMatch(/Model\s+HEALTHY\s+2\/2/);
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "05 custom-router: a tenant's users stay on the tenant's home replicas",
    async () => {
      const out = await runReadme("custom-router");
      expect(out).toMatch(
        /^tenants: HEALTHY \(TenantService ×4; ingress TenantService; HTTP \/tenants; code [0-9a-f]+\)$/m,
      );
      const replies = [...out.matchAll(/"replica": ?"(TenantService-\w+)",\s*"tenant": ?"(\w+)"/g)].map(
        (m) => ({
          replica: m[1]!,
          tenant: m[2]!,
        }),
      );
      const acme = new Set(replies.filter((r) => r.tenant === "acme").map((r) => r.replica));
      expect(replies.filter((r) => r.tenant === "acme")).toHaveLength(5); // 4 CLI calls + curl
      expect(acme.size).toBeGreaterThanOrEqual(1);
      expect(acme.size).toBeLessThanOrEqual(2); // replicasPerTenant: 2
      expect(replies.filter((r) => r.tenant === "globex")).toHaveLength(1);
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "06 grpc: a session's gRPC, HTTP and CLI calls reach one replica and one counter",
    async () => {
      const out = await runReadme("grpc");
      expect(out).toMatch(/gRPC ingress {2}127\.0\.0\.1:\d+/);
      expect(out).toMatch(
        /^greeter: HEALTHY \(Greeter ×2; ingress Greeter; HTTP \/greeter; code [0-9a-f]+\)$/m,
      );
      const user1 = [...out.matchAll(/^SayHello user_1: Hello, Ada! replica=(Greeter-\w+) calls=(\d+)$/gm)];
      expect(user1.map((m) => m[2])).toEqual(["1", "2", "3"]);
      const replica = user1[0]![1]!;
      expect(new Set(user1.map((m) => m[1]))).toEqual(new Set([replica]));
      expect(out).toMatch(/^SayHello user_2: Hello, Bob! replica=Greeter-\w+ calls=1$/m);
      const chunks = [...out.matchAll(/^CountUp user_1: i=(\d) replica=(Greeter-\w+)$/gm)];
      expect(chunks.map((m) => m[1])).toEqual(["1", "2", "3"]);
      expect(out).toMatch(/^SayHello without a name: code=3 details="ServeError: name is required"$/m);
      expect(out).toContain(
        `{"message":"Hello, curl!","replica":"${replica}","calls":4,"session_id":"user_1"}`,
      );
      expect(out).toMatch(new RegExp(`"replica": "${replica}",\\n\\s+"calls": 5`));
      expect(out).toMatch(/shut down \(head pid \d+ exited\)/);
    },
    TEST_TIMEOUT_MS,
  );
});
