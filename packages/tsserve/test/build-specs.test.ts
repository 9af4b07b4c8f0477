import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildApplicationSpecs } from "../src/config/build-specs.js";
import { codeVersion, localSourceFiles } from "../src/config/code-version.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const EXAMPLES = join(ROOT, "examples");

// A throwaway app folder whose modules import "tsserve" through a node_modules link, like a user's.
const dir = mkdtempSync(join(tmpdir(), "tsserve-specs-"));
mkdirSync(join(dir, "node_modules"));
symlinkSync(join(ROOT, "packages/tsserve"), join(dir, "node_modules/tsserve"));
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe("buildApplicationSpecs", () => {
  it("merges serve.yaml overrides over the code's options and resolves paths from the config's folder", async () => {
    const [spec] = await buildApplicationSpecs(join(EXAMPLES, "composition/serve.yaml"));
    expect(spec).toMatchObject({
      name: "composition",
      routePrefix: "/predict",
      importPath: "./app.ts#app",
      cwd: join(EXAMPLES, "composition"),
      ingress: "Ingress",
    });
    const byName = new Map(spec!.deployments.map((d) => [d.config.name, d]));
    expect([...byName.keys()].sort()).toEqual(["Ingress", "Model"]);
    expect(byName.get("Model")!.config.numReplicas).toBe(2);
    expect(byName.get("Ingress")!.codeVersion).toMatch(/^[0-9a-f]{16}$/);
  });

  it("lets one code serve three applications with different routers (llm-cache)", async () => {
    const specs = await buildApplicationSpecs(join(EXAMPLES, "llm-cache/serve.yaml"));
    expect(specs.map((s) => [s.name, s.deployments[0]!.config.requestRouter.class])).toEqual([
      ["llm-p2c", "PowerOfTwoChoices"],
      ["llm-hash", "ConsistentHash"],
      ["llm-scoring", "Scoring"],
    ]);
    // Options the YAML does not set keep the code's values (the engine's batch of 4).
    expect(specs[0]!.deployments[0]!.config.maxOngoingRequests).toBe(4);
  });

  it("makes a module-path router absolute from the app's folder, so every process finds it", async () => {
    const [spec] = await buildApplicationSpecs(join(EXAMPLES, "custom-router/serve.yaml"));
    expect(spec!.deployments[0]!.config.requestRouter.class).toBe(
      `${join(EXAMPLES, "custom-router/tenant-router.ts")}#TenantRouter`,
    );
  });

  it("rejects an unknown router or invalid router kwargs at deploy time, naming the field", async () => {
    write(
      "routed.ts",
      `import { deployment } from "tsserve";\nclass R { __call__() { return 1; } }\nexport const app = deployment({})(R).bind();\n`,
    );
    const unknown = write(
      "unknown-router.yaml",
      "applications:\n  - name: r\n    importPath: routed.ts\n    deployments: [{ name: R, requestRouter: { class: RoundRobin } }]\n",
    );
    await expect(buildApplicationSpecs(unknown)).rejects.toThrow(
      /unknown-router\.yaml: applications\[0\]\.deployments\[0\]\.requestRouter: unknown request router "RoundRobin": use one of .*"ConsistentHash"/,
    );
    const badKwargs = write(
      "bad-kwargs.yaml",
      "applications:\n  - name: r\n    importPath: routed.ts\n    deployments: [{ name: R, requestRouter: { class: ConsistentHash, kwargs: { numVirtualNodes: 0 } } }]\n",
    );
    await expect(buildApplicationSpecs(badKwargs)).rejects.toThrow(
      /bad-kwargs\.yaml: applications\[0\]\.deployments\[0\]\.requestRouter: .*numVirtualNodes/,
    );
  });

  it("rejects a deployment the code graph does not have, listing the graph's names", async () => {
    write(
      "app.ts",
      `import { deployment } from "tsserve";\nclass A { __call__() { return 1; } }\nexport const app = deployment({})(A).bind();\n`,
    );
    const cfg = write(
      "serve.yaml",
      "applications:\n  - name: a\n    importPath: app.ts\n    deployments: [{ name: B }]\n",
    );
    await expect(buildApplicationSpecs(cfg)).rejects.toThrow(
      `${cfg}: applications[0].deployments[0].name: expected one of the deployments of app.ts (A), got "B"`,
    );
  });

  it("reports a missing module file and a module that throws, with the field path", async () => {
    const missing = write("missing.yaml", "applications:\n  - name: a\n    importPath: nope.ts#app\n");
    await expect(buildApplicationSpecs(missing)).rejects.toThrow(
      /missing\.yaml: applications\[0\]\.importPath "nope\.ts#app": file .* not found/,
    );
    write("throws.ts", `throw new RangeError("boom at import");\n`);
    const throws = write("throws.yaml", "applications:\n  - name: a\n    importPath: throws.ts#app\n");
    await expect(buildApplicationSpecs(throws)).rejects.toThrow(
      /throws\.yaml: applications\[0\]\.importPath "throws\.ts#app": importing the module failed: RangeError: boom at import/,
    );
  });

  it('names the CommonJS trap: an app folder whose package.json lacks "type": "module"', async () => {
    write("cjs/package.json", JSON.stringify({ name: "cjs-app" }));
    write(
      "cjs/app.ts",
      `import { deployment } from "tsserve";\nclass A {}\nexport const app = deployment({})(A).bind();\n`,
    );
    const cfg = write("cjs/serve.yaml", "applications:\n  - name: a\n    importPath: ./app.ts#app\n");
    await expect(buildApplicationSpecs(cfg)).rejects.toThrow(
      /cjs\/serve\.yaml: applications\[0\]\.importPath: .*cjs\/app\.ts would load as CommonJS \(.*package\.json has no "type": "module"\), and tsserve is an ES module: add "type": "module" to that package\.json .*or rename the file to .*app\.mts$/,
    );
    // The rename the message offers works.
    write(
      "cjs/app.mts",
      `import { deployment } from "tsserve";\nclass A {}\nexport const app = deployment({})(A).bind();\n`,
    );
    const mts = write("cjs/mts.yaml", "applications:\n  - name: a\n    importPath: ./app.mts#app\n");
    expect((await buildApplicationSpecs(mts))[0]!.ingress).toBe("A");
  });

  it("reports an override that breaks the merged options", async () => {
    write(
      "auto.ts",
      `import { deployment } from "tsserve";\nclass A {}\nexport const app = deployment({})(A).bind();\n`,
    );
    const cfg = write(
      "auto.yaml",
      "applications:\n  - name: a\n    importPath: auto.ts\n    deployments:\n      - name: A\n        autoscalingConfig: { minReplicas: 3, maxReplicas: 2 }\n",
    );
    await expect(buildApplicationSpecs(cfg)).rejects.toThrow(
      "auto.yaml: applications[0].deployments[0].autoscalingConfig.maxReplicas: expected a value >= minReplicas (3), got 2",
    );
  });
});

describe("codeVersion", () => {
  it("follows local imports transitively and changes when any of them changes", async () => {
    const entry = write(
      "v/app.ts",
      `import { x } from "./lib/x.js";\nexport * from "./y";\nimport "tsserve";\nexport const a = x;\n`,
    );
    write("v/lib/x.ts", `import data from "../data.json" with { type: "json" };\nexport const x = data;\n`);
    write("v/y.ts", `export const y = 1;\n`);
    write("v/data.json", `{"n":1}\n`);
    write("v/unrelated.ts", `export const z = 1;\n`);
    expect((await localSourceFiles(entry)).map((f) => f.slice(join(dir, "v").length + 1))).toEqual([
      "app.ts",
      "data.json",
      "lib/x.ts",
      "y.ts",
    ]);
    const v1 = await codeVersion(entry, join(dir, "v"));
    expect(await codeVersion(entry, join(dir, "v"))).toBe(v1);
    write("v/unrelated.ts", `export const z = 2;\n`);
    expect(await codeVersion(entry, join(dir, "v"))).toBe(v1);
    write("v/data.json", `{"n":2}\n`);
    const v2 = await codeVersion(entry, join(dir, "v"));
    expect(v2).not.toBe(v1);
    write("v/y.ts", `export const y = 2;\n`);
    expect(await codeVersion(entry, join(dir, "v"))).not.toBe(v2);
    // --force: a new version every time, for changes the module graph cannot see.
    const v3 = await codeVersion(entry, join(dir, "v"));
    expect(await codeVersion(entry, join(dir, "v"), true)).not.toBe(v3);
  });

  it("follows package #imports and workspace packages, not installed packages", async () => {
    write("g/package.json", JSON.stringify({ type: "module", imports: { "#helpers/*": "./src/helpers/*" } }));
    const entry = write(
      "g/app.ts",
      `import { h } from "#helpers/greet.ts";\nimport { w } from "shared-lib";\nimport { i } from "installed";\nexport const app = [h, w, i];\n`,
    );
    write("g/src/helpers/greet.ts", `export const h = "hello";\n`);
    // A workspace package: a symlink in node_modules to a folder outside any node_modules.
    write(
      "ws/shared-lib/package.json",
      JSON.stringify({ name: "shared-lib", type: "module", main: "index.ts" }),
    );
    write("ws/shared-lib/index.ts", `export const w = 1;\n`);
    mkdirSync(join(dir, "g/node_modules"), { recursive: true });
    symlinkSync(join(dir, "ws/shared-lib"), join(dir, "g/node_modules/shared-lib"));
    write("g/node_modules/installed/package.json", JSON.stringify({ name: "installed", main: "index.js" }));
    write("g/node_modules/installed/index.js", `export const i = 1;\n`);
    expect((await localSourceFiles(entry)).map((f) => f.slice(dir.length + 1))).toEqual([
      "g/app.ts",
      "g/src/helpers/greet.ts",
      "ws/shared-lib/index.ts",
    ]);
    const root = join(dir, "g");
    const v1 = await codeVersion(entry, root);
    write("g/node_modules/installed/index.js", `export const i = 2;\n`);
    expect(await codeVersion(entry, root)).toBe(v1);
    write("g/src/helpers/greet.ts", `export const h = "bonjour";\n`);
    const v2 = await codeVersion(entry, root);
    expect(v2).not.toBe(v1);
    write("ws/shared-lib/index.ts", `export const w = 2;\n`);
    expect(await codeVersion(entry, root)).not.toBe(v2);
  });
});
