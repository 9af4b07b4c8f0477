import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseServeConfig } from "../config/serve-config.js";
import { scaffoldApp, tsserveVersion } from "./scaffold.js";

const base = mkdtempSync(join(tmpdir(), "tsserve-init-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("tsserve init", () => {
  it("writes an ESM app whose serve.yaml is valid and names the app's deployment", () => {
    const r = scaffoldApp(join(base, "My App"));
    expect(r.created).toEqual(["app.ts", "serve.yaml", "tsconfig.json", ".gitignore", "package.json"]);
    const pkg = JSON.parse(readFileSync(join(r.dir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: "my-app",
      type: "module",
      dependencies: { tsserve: `^${tsserveVersion()}` },
    });
    const yaml = readFileSync(join(r.dir, "serve.yaml"), "utf8");
    expect(yaml.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./node_modules/tsserve/serve.schema.json",
    );
    const cfg = parseServeConfig(yaml, "serve.yaml");
    expect(cfg.applications[0]).toMatchObject({ name: "hello", importPath: "./app.ts#app" });
    expect(readFileSync(join(r.dir, "app.ts"), "utf8")).toContain("export class Hello");
    expect(parse(readFileSync(join(r.dir, "tsconfig.json"), "utf8"))).toMatchObject({
      compilerOptions: { module: "NodeNext", strict: true },
    });
  });

  it("refuses to overwrite an app and names the files that are in the way", () => {
    expect(() => scaffoldApp(join(base, "My App"))).toThrow(
      /My App already has app\.ts, serve\.yaml, tsconfig\.json; run `tsserve init` in a new or empty folder$/,
    );
  });

  it("updates an existing package.json instead of replacing it", () => {
    const dir = join(base, "existing");
    mkdirSync(dir);
    const pkgFile = join(dir, "package.json");
    writeFileSync(
      pkgFile,
      JSON.stringify({ name: "mine", scripts: { start: "node x.js" }, dependencies: { a: "1" } }),
    );
    const r = scaffoldApp(dir);
    expect(r.created).not.toContain("package.json");
    expect(r.updatedPackageJson).toEqual([
      '"type": "module"',
      "the tsserve dependency",
      "scripts deploy, status, shutdown, typecheck",
      "the typescript devDependency (for the typecheck script)",
    ]);
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as Record<string, Record<string, string>>;
    expect(pkg["scripts"]!["start"]).toBe("node x.js"); // the user's own script stays
    expect(pkg["dependencies"]).toEqual({ a: "1", tsserve: `^${tsserveVersion()}` });
    expect(pkg["devDependencies"]).toEqual({ typescript: "~5.9.3" });
    expect(pkg["name"]).toBe("mine");
  });
});
