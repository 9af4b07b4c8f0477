import { resolve } from "node:path";

/** Parsed command line of `run.ts`. */
export interface BenchArgs {
  /** `--quick`: smallest configurations; the whole run stays under 3 minutes. */
  quick: boolean;
  /** `--suite a,b`: run only these suites (names as listed by `--list`); null = all. */
  suites: string[] | null;
  /** `--address URL`: use this NATS / tsserve cluster instead of local servers where a suite allows. */
  address: string | null;
  /** `--out DIR`: where JSON, Markdown and SVG results go. @default bench/results */
  outDir: string;
  /** `--no-readme`: do not rewrite bench/README.md (e.g. for a one-suite try). */
  readme: boolean;
  /** `--list`: print the suite names and exit. */
  list: boolean;
}

const USAGE =
  "usage: tsx run.ts [--quick] [--suite name[,name]] [--address nats://host:4222] [--out DIR] [--no-readme] [--list]";

/** Parses `argv` (without node and script); throws a RangeError naming the bad flag and the usage. */
export function parseArgs(argv: readonly string[], benchDir: string): BenchArgs {
  const out: BenchArgs = {
    quick: false,
    suites: null,
    address: null,
    outDir: resolve(benchDir, "results"),
    readme: true,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new RangeError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case "--quick":
        out.quick = true;
        break;
      case "--suite":
      case "--suites":
        out.suites = value()
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case "--address":
        out.address = value();
        if (!/^(nats|tls|wss?):\/\/|^[\w.-]+:\d+$/.test(out.address)) {
          throw new RangeError(
            `--address ${JSON.stringify(out.address)} is not a NATS URL (e.g. nats://10.0.0.5:4222)`,
          );
        }
        break;
      case "--out":
        // pnpm runs the script inside bench/; resolve relative to where the user typed the command.
        out.outDir = resolve(process.env["INIT_CWD"] ?? process.cwd(), value());
        break;
      case "--no-readme":
        out.readme = false;
        break;
      case "--list":
        out.list = true;
        break;
      case "--":
        break;
      default:
        throw new RangeError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return out;
}
