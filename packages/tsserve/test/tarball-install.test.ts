import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "@tsserve/test-utils";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, alive, cleanEnv, headPids, stopPids } from "./cli-harness.js";

// What a user outside this repository does (README, "Outside this repository"): the public packages
// packed by scripts/pack.mjs (`pnpm run pack`), installed with npm in a folder outside the workspace, `tsserve init`, tsc, then start, deploy,
// call and shutdown. npm reaches the registry for third-party dependencies; allow minutes.
const work = mkdtempSync(join(tmpdir(), "tsserve-tarballs-"));
const tarballs = join(work, "tarballs");
const app = join(work, "my-app");
let pids: number[] = [];

afterAll(async () => {
  await stopPids(pids.filter(alive));
  rmSync(work, { recursive: true, force: true });
}, 60_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: without the `npm_*` / `pnpm_*` settings that `pnpm test`
 * passes to its children (npm would read `npm_config_*` as its own configuration).
 */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(cleanEnv()).filter(([k]) => !/^p?npm_/i.test(k)));
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd, env: userEnv(), timeout: timeoutMs }, (err, stdout, stderr) => {
      res({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd = app, timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, cwd, timeoutMs);
  expect(r.code, `${cmd} ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const tsserve = (args: string[], cwd = app) =>
  ok(process.execPath, [join(app, "node_modules/tsserve/dist/cli.js"), ...args], cwd);

/** Every published (non-private) workspace package. */
function publicPackages(): { name: string; dir: string }[] {
  return readdirSync(join(ROOT, "packages"))
    .map((d) => join(ROOT, "packages", d))
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => ({
      dir,
      pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>,
    }))
    .filter(({ pkg }) => pkg["private"] !== true)
    .map(({ dir, pkg }) => ({ name: pkg["name"] as string, dir }));
}

/** All files below `dir` whose name ends with `suffix`. */
function filesEnding(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesEnding(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

describe("the packed packages installed with npm outside the workspace", { timeout: 300_000 }, () => {
  const packages = publicPackages();

  it("pack into tarballs that npm installs, each with a licence, a README and resolvable source maps", async () => {
    expect(packages.map((p) => p.name)).toContain("tsserve");
    mkdirSync(tarballs, { recursive: true });
    mkdirSync(app, { recursive: true });
    // `pnpm run pack` (README, "Outside this repository"): the public packages only.
    await ok(process.execPath, [join(ROOT, "scripts/pack.mjs"), tarballs], ROOT);
    const files = readdirSync(tarballs).filter((f) => f.endsWith(".tgz"));
    expect(files).toHaveLength(packages.length);
    // The README's install line names exactly these tarballs.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect([...readme.matchAll(/\$T\/([\w.-]+\.tgz)/g)].map((m) => m[1]).sort()).toEqual([...files].sort());
    await ok("npm", ["init", "-y"], app);
    await ok(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--loglevel=error",
        ...files.map((f) => join(tarballs, f)),
      ],
      app,
      240_000,
    );
    for (const { name } of packages) {
      const dir = join(app, "node_modules", name);
      expect(existsSync(join(dir, "LICENSE")), `${name} LICENSE`).toBe(true);
      expect(existsSync(join(dir, "README.md")), `${name} README.md`).toBe(true);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
      expect(pkg).toMatchObject({ license: "Apache-2.0", engines: { node: ">=20.19" } });
      expect(JSON.stringify(pkg["dependencies"])).not.toContain("workspace:");
      const maps = filesEnding(join(dir, "dist"), ".map");
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(map, "utf8")) as { sources: string[] };
        for (const s of sources) expect(existsSync(resolve(dirname(map), s)), `${map} → ${s}`).toBe(true);
      }
      expect(filesEnding(dir, ".test.ts")).toEqual([]);
    }
    expect(existsSync(join(app, "node_modules/tsserve/serve.schema.json"))).toBe(true);
  });

  it("tsserve init scaffolds an ESM app that type-checks without installing @types/node", async () => {
    const out = await tsserve(["init", "."]);
    expect(out).toMatch(/created \.\/app\.ts, \.\/serve\.yaml, \.\/tsconfig\.json/);
    expect(out).toMatch(/updated \.\/package\.json: "type": "module"/);
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg["type"]).toBe("module");
    expect(readFileSync(join(app, "serve.yaml"), "utf8")).toMatch(
      /^# yaml-language-server: \$schema=\.\/node_modules\/tsserve\/serve\.schema\.json$/m,
    );
    expect(statSync(join(app, "node_modules/tsserve/serve.schema.json")).size).toBeGreaterThan(1000);
    // init added TypeScript for its typecheck script; the README's second `npm install` fetches it.
    expect(out).toMatch(/the typescript devDependency/);
    await ok(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
      app,
      240_000,
    );
    await ok(process.execPath, [join(app, "node_modules/typescript/bin/tsc"), "-p", "."]);
  });

  it("runs the init app: start, deploy, call (CLI and HTTP, from a subfolder too), shutdown", async () => {
    const httpPort = await freePort();
    try {
      await tsserve(["start", "--http-port", String(httpPort), "--nats-port", "0"]);
    } finally {
      pids = headPids(join(app, ".tsserve"));
    }
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(await tsserve(["deploy", "serve.yaml"])).toMatch(/^hello: HEALTHY \(Hello ×2; /m);
    const reply = JSON.parse(await tsserve(["call", "hello", "Hello", "--data", '"Ada"'])) as Record<
      string,
      unknown
    >;
    expect(reply).toMatchObject({ greeting: "Hello, Ada!", calls: 1 });
    expect(reply["replica"]).toMatch(/^Hello-/);
    const res = await fetch(`http://127.0.0.1:${httpPort}/hello`, { method: "POST", body: '"Bo"' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ greeting: "Hello, Bo!" });
    mkdirSync(join(app, "src/sub"), { recursive: true });
    expect(await tsserve(["status"], join(app, "src/sub"))).toMatch(
      /hello\s+\/hello\s+Hello \(ingress\)\s+HEALTHY\s+2\/2/,
    );
    expect(await tsserve(["shutdown"])).toMatch(/shut down/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
