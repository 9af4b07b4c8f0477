import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PINNED } from "./pinned-faces.js";

// Every package's faces, pinned name by name (types included): `.` is what users of the package
// build on, `./internal` what sibling tsserve packages (and this repository's tests and
// benchmarks) need. Changing a face is a decision, so it is an edit of this list too; the
// per-package READMEs and docs/design.md say what each face is for.

const require = createRequire(import.meta.url);

/** The built declaration file an entry point resolves to, through the package's `exports`. */
function declarationFile(spec: string): string {
  const js = require.resolve(spec);
  return resolve(dirname(js), js.replace(/^.*\//, "").replace(/\.js$/, ".d.ts"));
}

/** Exported names of each entry point's declarations, values and types, sorted. */
function declaredFaces(specs: string[]): Map<string, { all: string[]; values: string[] }> {
  const files = specs.map(declarationFile);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ["node"],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const faces = new Map<string, { all: string[]; values: string[] }>();
  specs.forEach((spec, i) => {
    const source = program.getSourceFile(files[i]!);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`no declarations for ${spec} (${files[i]})`);
    const symbols = checker.getExportsOfModule(module);
    const isValue = (s: ts.Symbol): boolean => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    };
    faces.set(spec, {
      all: symbols.map((s) => s.name).sort(),
      values: symbols
        .filter(isValue)
        .map((s) => s.name)
        .sort(),
    });
  });
  return faces;
}

describe("package faces", () => {
  const specs = Object.keys(PINNED);
  const faces = declaredFaces(specs);

  it.each(specs)("%s exports exactly the pinned names", (spec) => {
    expect(faces.get(spec)?.all).toEqual([...PINNED[spec]!].sort());
  });

  it.each(specs)("%s loads at runtime with exactly its declared values", async (spec) => {
    const mod = (await import(spec)) as Record<string, unknown>;
    expect(Object.keys(mod).sort()).toEqual(faces.get(spec)?.values);
  });

  it("every published package declares its internal entry point (types and code)", () => {
    for (const spec of specs.filter((s) => s.endsWith("/internal"))) {
      const pkg = require(`${spec.replace(/\/internal$/, "")}/package.json`) as {
        exports: Record<string, unknown>;
        files: string[];
      };
      expect(pkg.exports["./internal"]).toEqual({
        types: "./dist/internal.d.ts",
        default: "./dist/internal.js",
      });
      expect(pkg.files).toContain("dist");
    }
  });
});
