#!/usr/bin/env node
// `pnpm run pack [dir]`: packs the public workspace packages (package.json without "private": true)
// into dir (default tarballs/), and prints the npm install command for them. tsserve is not on the
// npm registry yet: these tarballs are how an app outside this repository installs it (README,
// "Outside this repository"). `pnpm -r pack` would pack the private ones too (chaos, test-utils,
// bench, examples). Run `pnpm build` first (`pnpm run pack` does).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const dest = resolve(process.argv[2] ?? join(root, "tarballs"));

/** Names of the public packages under packages/, sorted. */
function publicPackages() {
  return readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d, "package.json"))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, "utf8")))
    .filter((pkg) => pkg.private !== true)
    .map((pkg) => pkg.name)
    .sort();
}

const names = publicPackages();
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
execFileSync("pnpm", ["-r", ...names.flatMap((n) => ["--filter", n]), "pack", "--pack-destination", dest], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
});
const files = readdirSync(dest)
  .filter((f) => f.endsWith(".tgz"))
  .sort();
if (files.length !== names.length) {
  console.error(`pack: expected ${names.length} tarballs (${names.join(", ")}), got ${files.join(", ")}`);
  process.exit(1);
}
const shown = relative(process.cwd(), dest) || ".";
console.log(`packed ${files.length} public packages into ${shown}/:`);
for (const f of files) console.log(`  ${f}`);
console.log(
  `install them in an app folder with:\n  npm install ${files.map((f) => join(dest, f)).join(" ")}`,
);
