import { z } from "zod";
import { serveConfigSchema } from "./serve-schema.js";

/** Where the generated JSON Schema lives in the package (and so in node_modules/tsserve/). */
export const SERVE_SCHEMA_FILE = "serve.schema.json";

/**
 * The JSON Schema of serve.yaml, generated from {@link serveConfigSchema}. Draft-07, because that
 * is what editors' YAML plugins (yaml-language-server) validate and complete best. Written to
 * `packages/tsserve/serve.schema.json` by `pnpm --filter tsserve schema`; a test keeps the file
 * equal to this.
 */
export function serveJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(serveConfigSchema, { target: "draft-7", io: "input" });
  return { ...schema, title: "tsserve serve.yaml" };
}

/** The file's text: stable key order, two-space indent, trailing newline. */
export function serveJsonSchemaText(): string {
  return `${JSON.stringify(serveJsonSchema(), null, 2)}\n`;
}
