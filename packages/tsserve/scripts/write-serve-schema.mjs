// Regenerates serve.schema.json from the zod schema (run after `pnpm build`):
//   pnpm --filter tsserve schema
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SERVE_SCHEMA_FILE, serveJsonSchemaText } from "../dist/config/json-schema.js";

const file = fileURLToPath(new URL(`../${SERVE_SCHEMA_FILE}`, import.meta.url));
writeFileSync(file, serveJsonSchemaText());
console.log(`wrote ${file}`);
