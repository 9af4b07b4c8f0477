import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { resolveDeploymentOptions } from "@tsserve/protocol/internal";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SERVE_SCHEMA_FILE, serveJsonSchemaText } from "../src/config/json-schema.js";
import { deploymentSchema } from "../src/config/serve-schema.js";

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLES = resolve(PKG, "../../examples");
const shipped = readFileSync(join(PKG, SERVE_SCHEMA_FILE), "utf8");
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(shipped) as object);
const exampleConfigs = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== "node_modules")
  .map((e) => join(EXAMPLES, e.name, "serve.yaml"))
  .filter((f) => {
    try {
      readFileSync(f);
      return true;
    } catch {
      return false;
    }
  });

describe("serve.yaml JSON Schema", () => {
  it("is checked in as generated from the zod schema (run `pnpm --filter tsserve schema` after a change)", () => {
    expect(shipped).toBe(serveJsonSchemaText());
  });

  it("validates every example's serve.yaml, each pointing its editor at the schema", () => {
    expect(exampleConfigs.length).toBeGreaterThanOrEqual(5);
    for (const file of exampleConfigs) {
      const text = readFileSync(file, "utf8");
      const ok = validate(parse(text));
      expect({ file, ok, errors: validate.errors ?? null }).toEqual({ file, ok: true, errors: null });
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      expect(m, `${file} has the yaml-language-server comment`).not.toBeNull();
      // The comment's path resolves to the shipped schema (through examples/node_modules/tsserve).
      expect(readFileSync(resolve(dirname(file), m![1]!), "utf8")).toBe(shipped);
    }
  });

  it("rejects what tsserve rejects: unknown fields, wrong types, out-of-range values", () => {
    const app = (dep: Record<string, unknown>) => ({
      applications: [{ name: "a", importPath: "./app.ts#app", deployments: [{ name: "D", ...dep }] }],
    });
    expect(validate(app({ numReplicas: 2 }))).toBe(true);
    expect(validate(app({ num_replicas: 2 }))).toBe(false);
    expect(validate(app({ maxOngoingRequests: 0 }))).toBe(false);
    expect(validate(app({ maxQueuedRequests: -1 }))).toBe(true);
    expect(validate(app({ maxQueuedRequests: 0 }))).toBe(false);
    expect(validate(app({ autoscalingConfig: null }))).toBe(true);
    expect(validate({ applications: [] })).toBe(false);
    expect(validate({ applications: [{ name: "a.b", importPath: "x.ts" }] })).toBe(false);
    expect(validate({ applications: [{ name: "a", importPath: "x.ts", routePrefix: "//x" }] })).toBe(false);
  });

  it("has the same deployment fields as the code's deployment() options", () => {
    for (const field of Object.keys(deploymentSchema.shape)) {
      // A field protocol does not know would throw "unknown field"; a known one passes or fails on type.
      expect(() => resolveDeploymentOptions({ [field]: undefined }, "D")).not.toThrow();
    }
    // And protocol knows no field the schema lacks: its "known fields" list is the schema's keys.
    let message = "";
    try {
      resolveDeploymentOptions({ name: "D", colour: 1 }, "D");
    } catch (e) {
      message = (e as Error).message;
    }
    const known = /known fields are ([^;(]+)/.exec(message)?.[1]?.trim().split(", ") ?? [];
    expect(known.sort()).toEqual(Object.keys(deploymentSchema.shape).sort());
  });
});

describe("docs/serve-yaml.md", () => {
  const page = readFileSync(resolve(PKG, "../../docs/serve-yaml.md"), "utf8");

  it("documents every field of the schema", () => {
    const fields = new Set<string>();
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== "object") return;
      const props = (node as { properties?: Record<string, unknown> }).properties;
      if (props !== undefined) for (const k of Object.keys(props)) fields.add(k);
      for (const v of Object.values(node)) walk(v);
    };
    walk(JSON.parse(shipped));
    expect(fields.size).toBeGreaterThan(20);
    for (const f of fields) expect(page, `field ${f}`).toContain(`| \`${f}\` |`);
  });
});
