import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { StatusReport } from "@tsserve/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, alive, cli, cleanEnv, headPids, stopPids } from "./cli-harness.js";

// A user's app folder (package.json with #imports, serve.yaml, code under src/) with tsserve linked
// into node_modules. Every command runs from a subfolder, without --state-dir: the state directory
// is found by walking up, and `start` writes it at the project root.
const app = mkdtempSync(join(tmpdir(), "tsserve-app-"));
const deep = join(app, "src/deep");
const stateDir = join(app, ".tsserve");
let pids: number[] = [];

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(app, rel)), { recursive: true });
  writeFileSync(join(app, rel), text);
}

write(
  "package.json",
  JSON.stringify({ name: "greeter", type: "module", imports: { "#helpers/*": "./src/helpers/*.ts" } }),
);
write("src/helpers/greet.ts", `export const greeting = "hello";\n`);
write(
  "src/app.ts",
  `import { deployment, getReplicaContext } from "tsserve";
import { greeting } from "#helpers/greet";
class Greeter {
  __call__(name: string) { return { text: \`\${greeting}, \${name}\`, replica: getReplicaContext().replicaId }; }
}
export const app = deployment({ numReplicas: 2, gracefulShutdownWaitLoopS: 0.2 })(Greeter).bind();
`,
);
write("serve.yaml", "applications:\n  - name: greet\n    importPath: ./src/app.ts#app\n");
mkdirSync(join(app, "node_modules"));
symlinkSync(join(ROOT, "packages/tsserve"), join(app, "node_modules/tsserve"));
mkdirSync(deep, { recursive: true });

const run = (args: string[]) => cli(args, { cwd: deep, env: cleanEnv() });

async function deploy(...flags: string[]): Promise<string> {
  const r = await run(["deploy", "../../serve.yaml", ...flags]);
  expect(r.code, r.stderr).toBe(0);
  const m = /^greet: HEALTHY \(Greeter ×2; .*; code ([0-9a-f]{16})\)$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return m![1]!;
}

async function runningReplicas(): Promise<string[]> {
  const r = await run(["status", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as StatusReport;
  const dep = report.applications.find((a) => a.name === "greet")!.deployments[0]!;
  return dep.replicas
    .filter((x) => x.state === "RUNNING")
    .map((x) => x.replicaId)
    .sort();
}

async function greet(): Promise<string> {
  const r = await run(["call", "greet", "Greeter", "--data", '"Ada"']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { text: string }).text;
}

beforeAll(async () => {
  const start = await run(["start", "--http-port", "0", "--nats-port", "0"]);
  pids = headPids(stateDir);
  expect(start.code, start.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await stopPids(pids.filter(alive));
  rmSync(app, { recursive: true, force: true });
}, 60_000);

describe("an app driven from a subfolder", { timeout: 240_000 }, () => {
  it("start writes .tsserve/ at the project root (the folder with package.json), not the cwd", () => {
    expect(existsSync(join(stateDir, "address"))).toBe(true);
    expect(existsSync(join(deep, ".tsserve"))).toBe(false);
    expect(pids.length).toBeGreaterThanOrEqual(4);
  });

  it("rolls the replicas when a helper imported through package #imports changes; --force rolls anyway", async () => {
    const v1 = await deploy();
    const r1 = await runningReplicas();
    expect(r1).toHaveLength(2);
    expect(await greet()).toBe("hello, Ada");

    write("src/helpers/greet.ts", `export const greeting = "bonjour";\n`);
    const v2 = await deploy();
    expect(v2).not.toBe(v1);
    const r2 = await runningReplicas();
    expect(r2).toHaveLength(2);
    expect(r2.filter((id) => r1.includes(id))).toEqual([]);
    expect(await greet()).toBe("bonjour, Ada");

    // Nothing changed: same version, same replicas.
    expect(await deploy()).toBe(v2);
    expect(await runningReplicas()).toEqual(r2);

    const v3 = await deploy("--force");
    expect(v3).not.toBe(v2);
    const r3 = await runningReplicas();
    expect(r3.filter((id) => r2.includes(id))).toEqual([]);
  });

  it("shutdown from the subfolder stops the head and clears its address file", async () => {
    const r = await run(["shutdown"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(stateDir, "address"))).toBe(false);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
