import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/program.js";
import { ROOT, cli } from "./cli-harness.js";

// Every `tsserve …` command a document shows (shell blocks and inline code of the README, docs/,
// the packages' and the examples' READMEs) names a real command of the commander program, with
// flags that command has: a renamed or removed flag fails here, not in a user's terminal.

/** Inline code that starts with `tsserve` but quotes output, not a command. */
const OUTPUT_QUOTES = ["tsserve head running"];

function markdownFiles(): string[] {
  const inDir = (dir: string, nested = false): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      if (nested && e.isDirectory()) return [join(dir, e.name, "README.md")];
      return !nested && e.isFile() && e.name.endsWith(".md") ? [join(dir, e.name)] : [];
    });
  return ["README.md", ...inDir("docs"), ...inDir("packages", true), ...inDir("examples", true)].filter(
    (f) => {
      try {
        readFileSync(join(ROOT, f));
        return true;
      } catch {
        return false;
      }
    },
  );
}

/** Shell-ish lines of a document: fenced blocks that are not code in another language, and inline code. */
function commandLines(text: string): string[] {
  const lines: string[] = [];
  for (const m of text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```/gm)) {
    if (!["", "sh", "bash", "shell", "console", "text"].includes(m[1]!)) continue;
    lines.push(...m[2]!.replace(/\\\n/g, " ").split("\n"));
  }
  const prose = text.replace(/^```[\s\S]*?^```/gm, "");
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) {
    if (/(^|\s)tsserve\s/.test(m[1]!) && !OUTPUT_QUOTES.some((q) => m[1]!.startsWith(q))) lines.push(m[1]!);
  }
  return lines;
}

interface Invocation {
  command: string | undefined;
  flags: string[];
  line: string;
}

/** Each `tsserve [command] [--flags]` in a line; quoted arguments and comments are dropped first. */
function invocations(line: string): Invocation[] {
  const bare = line
    .replace(/'[^']*'|"[^"]*"/g, "ARG")
    .replace(/\s#.*$/, "")
    .split(/\|\||&&|[|;]/);
  const out: Invocation[] = [];
  for (const segment of bare) {
    const tokens = segment.trim().split(/\s+/);
    tokens.forEach((t, i) => {
      // `--prefix tsserve`, `pnpm --filter tsserve`: a flag's value, not a command.
      if (t !== "tsserve" || tokens[i - 1]?.startsWith("-") === true) return;
      const rest = tokens.slice(i + 1);
      const end = rest.indexOf("tsserve");
      const args = end === -1 ? rest : rest.slice(0, end);
      const command = args[0] !== undefined && /^[a-z][a-z-]*$/.test(args[0]) ? args[0] : undefined;
      const flags = args
        .filter((a) => a.startsWith("--"))
        .map((a) => a.split("=")[0]!.replace(/[),.]+$/, ""));
      out.push({ command, flags, line });
    });
  }
  return out;
}

function longFlags(cmd: Command): Set<string> {
  return new Set([...cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined), "--help"]);
}

const program = buildProgram();
const commands = new Map(program.commands.map((c) => [c.name(), c]));
const documented = markdownFiles().flatMap((file) =>
  commandLines(readFileSync(join(ROOT, file), "utf8")).flatMap((line) =>
    invocations(line).map((inv) => ({ ...inv, file: relative(ROOT, join(ROOT, file)) })),
  ),
);

describe("documented tsserve commands exist", () => {
  it("finds the commands the docs show (the parser is not silently empty)", () => {
    const shown = new Set(documented.map((d) => d.command));
    for (const c of ["init", "start", "run", "deploy", "status", "call", "logs", "shutdown", "agent"])
      expect(shown, `no document shows \`tsserve ${c}\``).toContain(c);
    expect(documented.filter((d) => d.flags.length > 0).length).toBeGreaterThan(20);
  });

  it("every documented command and flag is in the commander program", () => {
    const wrong: string[] = [];
    for (const d of documented) {
      const cmd = d.command === undefined ? program : commands.get(d.command);
      if (cmd === undefined) {
        wrong.push(`${d.file}: \`tsserve ${d.command}\` is not a command (in: ${d.line.trim()})`);
        continue;
      }
      const known = longFlags(cmd);
      for (const f of d.flags) {
        if (!known.has(f))
          wrong.push(`${d.file}: \`tsserve ${d.command ?? ""}\` has no flag ${f} (in: ${d.line.trim()})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("tsserve --version prints the version in package.json", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages/tsserve/package.json"), "utf8")) as {
      version: string;
    };
    const run = await cli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });
});
