#!/usr/bin/env node
// Fails (exit 1) when a package's source files import each other in a cycle, type-only imports
// included: a cycle hides which file owns what (issue 15). Run by `pnpm lint`. Reads relative
// `import … from "./x.js"` / `export … from` specifiers of packages/*/src/**/*.ts (tests excluded).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SPEC = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/g;

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

function edges(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  for (const m of text.matchAll(SPEC)) out.push(resolve(dirname(file), m[1].replace(/\.js$/, ".ts")));
  return out;
}

const cycles = [];
for (const pkg of readdirSync(join(root, "packages"))) {
  const src = join(root, "packages", pkg, "src");
  try {
    statSync(src);
  } catch {
    continue;
  }
  const graph = new Map(files(src).map((f) => [f, edges(f)]));
  const state = new Map(); // 1 = on the stack, 2 = done
  const stack = [];
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 1)
        cycles.push([...stack.slice(stack.indexOf(g)), g].map((x) => relative(root, x)));
      else if (state.get(g) === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (state.get(f) === undefined) visit(f);
}

if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.join(" → ")}`);
  process.exit(1);
}
console.log("no import cycles");
