import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../packages/tsserve/test/cli-harness.js";

// Docs that point nowhere mislead a newcomer more than no docs: every relative link in a tracked
// Markdown file must resolve, and nothing may cite the old out-of-tree design file.
const SKIP = new Set(["node_modules", "dist", ".git", ".tsserve", "results", "soak-results"]);

function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, keep));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

describe("documentation links", () => {
  it("every relative link in a Markdown file resolves to a file or folder", () => {
    const broken: string[] = [];
    const mds = files(ROOT, (n) => n.endsWith(".md"));
    expect(mds.length).toBeGreaterThan(10);
    for (const md of mds) {
      const text = readFileSync(md, "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split("#")[0]!;
        if (target === "" || /^[a-z]+:/i.test(target)) continue; // anchors and URLs
        if (!existsSync(resolve(dirname(md), target))) broken.push(`${relative(ROOT, md)} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("code and docs cite docs/design.md, which exists, not the old design file outside the repository", () => {
    expect(existsSync(join(ROOT, "docs/design.md"))).toBe(true);
    const old = ["DESIGN", "md"].join("."); // spelled apart so this file does not match itself
    const stale = files(ROOT, (n) => /\.(ts|md|json)$/.test(n))
      .filter((f) => readFileSync(f, "utf8").includes(old))
      .map((f) => relative(ROOT, f));
    expect(stale).toEqual([]);
  });
});
