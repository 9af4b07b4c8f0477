import { relative } from "node:path";
import { scaffoldApp } from "../init/scaffold.js";

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** `tsserve init [dir]`: scaffolds an app and prints the commands that run it. */
export async function initCommand(dir: string): Promise<void> {
  const r = scaffoldApp(dir);
  const shown = relative(process.cwd(), r.dir) || ".";
  out(`created ${r.created.map((f) => `${shown}/${f}`).join(", ")}`);
  if (r.updatedPackageJson !== undefined) {
    out(
      `updated ${shown}/package.json: ${r.updatedPackageJson.length > 0 ? r.updatedPackageJson.join("; ") : "nothing to add"}`,
    );
  }
  out("next:");
  if (shown !== ".") out(`  cd ${shown}`);
  out("  npm install");
  out("  npx tsserve start");
  out("  npx tsserve deploy serve.yaml");
  out(`  npx tsserve call hello Hello --data '"Ada"'`);
  out(`  curl -X POST localhost:8000/hello -d '"Ada"'`);
  out("  npx tsserve shutdown");
  await Promise.resolve();
}
