import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs one of the standalone bench scripts (`bench/*-bench.ts`, owned by their authors) with tsx in
 * a child process, bounded by `timeoutMs`, then reads the JSON file it writes. Running them as
 * processes keeps their top-level code and globals out of the runner.
 */
export async function runBenchScript<T>(opts: {
  benchDir: string;
  /** Script file name inside bench/. */
  script: string;
  args?: string[];
  /** The JSON file the script writes, relative to bench/. */
  output: string;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<T> {
  const file = join(opts.benchDir, opts.script);
  if (!existsSync(file)) throw new Error(`${opts.script} is missing from ${opts.benchDir}`);
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", file, ...(opts.args ?? [])], {
    cwd: opts.benchDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (d: Buffer): void => {
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(`${opts.script} exited with ${code} after ${Date.now() - started} ms:\n${tail}`);
  const out = join(opts.benchDir, opts.output);
  const text = readFileSync(out, "utf8");
  opts.log(`${opts.script} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return JSON.parse(text) as T;
}
