import { Command, InvalidArgumentError, Option } from "commander";
import { ACCESS_LOG_ENV, applyNatsAuthFlags, NATS_AUTH_FLAGS } from "@tsserve/protocol/internal";
import type { TargetFlags } from "../head/target.js";
import {
  agentCommand,
  callCommand,
  deleteCommand,
  deployCommand,
  shutdownCommand,
  statusCommand,
} from "./commands.js";
import { withGrpcFlags } from "./grpc-flags.js";
import { addClusterCommands } from "./cluster-commands.js";
import { runCommand, startCommand } from "./head-commands.js";
import { tsserveVersion } from "../init/scaffold.js";
import { initCommand } from "./init-command.js";
import { logsCommand, type LogsFlags } from "./logs-command.js";
import { applyLogFlags } from "./log-flags.js";
import { reportError } from "./report-error.js";

/** `--flag <n>` parser: an integer in [min, max], else commander's one-line "invalid argument". */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected an integer between ${min} and ${max}, got ${JSON.stringify(value)}.`,
      );
    }
    return n;
  };
}

/** `--timeout <s>` parser: seconds > 0, returned in milliseconds. */
function secondsArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number of seconds > 0, got ${JSON.stringify(value)}.`);
  return Math.round(n * 1000);
}

/** `--timeout <seconds>`, 60 s by default: help shows the default in seconds, the command gets ms. */
function timeoutOption(description: string): Option {
  return new Option("--timeout <seconds>", description).argParser(secondsArg).default(60_000, "60");
}

/** The argument each NATS credential / TLS flag takes, for --help. */
const AUTH_FLAG_ARGS: Record<keyof typeof NATS_AUTH_FLAGS, string> = {
  "--nats-user": "user",
  "--nats-password": "password",
  "--nats-token": "token",
  "--nats-nkey": "seed-file",
  "--nats-creds": "creds-file",
  "--tls-ca": "ca-pem",
  "--tls-cert": "cert-pem",
  "--tls-key": "key-pem",
  "--nats-inbox-prefix": "prefix",
};

/** Adds the flags every command shares (where the cluster is, and how to authenticate to it). */
function withTarget(cmd: Command): Command {
  const with_ = cmd
    .option(
      "--address <url>",
      "NATS address of the cluster (default: $TSSERVE_ADDRESS, else <state-dir>/address)",
    )
    .option(
      "--prefix <prefix>",
      "subject prefix of the cluster (default: $TSSERVE_PREFIX, else the head's, else tsserve)",
    )
    .option(
      "--state-dir <dir>",
      "where the local head keeps its address file (default: $TSSERVE_STATE_DIR, else the nearest .tsserve/ upwards)",
    )
    .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent (or $TSSERVE_LOG_LEVEL)")
    .option("--log-format <format>", "text or json (or $TSSERVE_LOG_FORMAT)");
  for (const [flag, variable] of Object.entries(NATS_AUTH_FLAGS)) {
    with_.option(`${flag} <${AUTH_FLAG_ARGS[flag as keyof typeof NATS_AUTH_FLAGS]}>`, `(or $${variable})`);
  }
  return with_;
}

/** Adds the flags of a head (`start`, `run`). */
function withHeadFlags(cmd: Command): Command {
  return withGrpcFlags(withTarget(cmd), intArg)
    .addOption(
      new Option("--http-port <port>", "HTTP proxy port (0 = any free port)")
        .env("TSSERVE_HTTP_PORT")
        .argParser(intArg(0, 65535))
        .default(8000),
    )
    .option("--http-host <host>", "interface the HTTP proxy listens on", "127.0.0.1")
    .option("--no-http", "do not start the HTTP proxy")
    .option(
      "--proxies <n>",
      "HTTP proxy processes sharing the port, one core each (1 = the proxy runs in the head)",
      intArg(1, 64),
      1,
    )
    .option("--agents <n>", "local agents to start", intArg(1, 64), 1)
    .option(
      "--access-log",
      "replicas and the proxy log one line per request (replicas: request id, session id, method, ms; proxy: method, path or RPC, status, ms, session id)",
    )
    .addOption(
      new Option(
        "--dashboard-port <port>",
        "dashboard and cluster-wide /metrics port (a free one if taken; 0 = any free port)",
      )
        .env("TSSERVE_DASHBOARD_PORT")
        .argParser(intArg(0, 65535))
        .default(8265),
    )
    .option("--no-dashboard", "do not serve the dashboard")
    .addOption(
      new Option(
        "--nats-port <port>",
        "port of the embedded nats-server (a free one if taken; 0 = any free port)",
      )
        .env("TSSERVE_NATS_PORT")
        .argParser(intArg(0, 65535))
        .default(4222),
    )
    .option(
      "--standby",
      "join --address as a standby: the controller takes over if the leader's machine dies",
    )
    .option(
      "--kv-replicas <n>",
      "replicas of the controller's state bucket (default: NATS cluster size, max 3)",
      intArg(1, 5),
    );
}

/**
 * Runs one command body: prints a one-line error and exits non-zero on failure, exits 0 otherwise.
 * Exiting explicitly matters: importing user code (deploy) may leave timers that keep node alive.
 */
export function action<A extends unknown[]>(
  name: string,
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code = 0;
    try {
      await body(...args);
    } catch (e) {
      code = reportError(name, e);
    }
    process.exit(code);
  };
}

/** The `tsserve` command line: a thin commander chain over the package's operations. */
export function buildProgram(): Command {
  const program = new Command("tsserve")
    .description("serve stateful TypeScript classes as replicated, session-aware services over NATS")
    .version(tsserveVersion(), "-V, --version", "print the tsserve version")
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false })
    // Credentials given as flags become TSSERVE_NATS_* variables before any command runs, so this
    // process and every child it starts (controller, agents, replicas) connect with them.
    .hook("preAction", (_program, command) => {
      const o = command.opts<Record<string, string | undefined>>();
      applyLogFlags(o["logLevel"], o["logFormat"], o["stateDir"]);
      if ((o as Record<string, unknown>)["accessLog"] === true) process.env[ACCESS_LOG_ENV] = "1";
      applyNatsAuthFlags({
        "--nats-user": o["natsUser"],
        "--nats-password": o["natsPassword"],
        "--nats-token": o["natsToken"],
        "--nats-nkey": o["natsNkey"],
        "--nats-creds": o["natsCreds"],
        "--tls-ca": o["tlsCa"],
        "--tls-cert": o["tlsCert"],
        "--tls-key": o["tlsKey"],
        "--nats-inbox-prefix": o["natsInboxPrefix"],
      });
    });

  program
    .command("init")
    .argument("[dir]", "folder of the new app (created if missing)", ".")
    .description("scaffold an app: app.ts, serve.yaml, package.json (ESM), tsconfig.json")
    .action(action("init", (dir: string) => initCommand(dir)));

  withHeadFlags(
    program
      .command("start")
      .description("start a head: embedded nats-server (unless --address), controller, agent(s), HTTP proxy"),
  )
    .option("--foreground", "stay attached (Ctrl-C stops everything)")
    .action(action("start", (opts: Parameters<typeof startCommand>[0]) => startCommand(opts)));

  withHeadFlags(
    program
      .command("run")
      .argument("<file>", "serve.yaml")
      .description("dev mode: start a head, deploy FILE, stay until Ctrl-C"),
  ).action(action("run", (file: string, opts: Parameters<typeof runCommand>[1]) => runCommand(file, opts)));

  withTarget(
    program
      .command("agent")
      .description("run an agent on this machine that starts replicas for the controller"),
  )
    .option("--node-id <id>", "name of this machine in status output (default: host name + random suffix)")
    .option(
      "--replica-user <user>",
      "run replicas as this OS user (agent must run as root; $TSSERVE_REPLICA_USER)",
    )
    .action(
      action("agent", (opts: TargetFlags & { nodeId?: string; replicaUser?: string }) => agentCommand(opts)),
    );

  withTarget(
    program
      .command("deploy")
      .argument("<file>", "serve.yaml (or .json)")
      .description("deploy or update the applications of a config file"),
  )
    .option("--no-wait", "return once the controller accepted the config")
    .option("--force", "roll every replica over even if the code version did not change")
    .addOption(timeoutOption("how long to wait for HEALTHY"))
    .action(
      action("deploy", (file: string, opts: Parameters<typeof deployCommand>[1]) =>
        deployCommand(file, opts),
      ),
    );

  withTarget(
    program.command("status").description("applications, deployments and replicas with their states"),
  )
    .option("--json", "machine-readable output")
    .action(action("status", (opts: TargetFlags & { json?: boolean }) => statusCommand(opts)));

  withTarget(
    program
      .command("logs")
      .argument("[app]", "application name (default: all)")
      .argument("[deployment]", "deployment name (default: all)")
      .description("replica output (console.log, errors) from every agent's log files; -f follows"),
  )
    .option("--replica <id>", "only this replica")
    .option("-f, --follow", "keep printing new lines until Ctrl-C")
    .option("--since <duration>", "only lines newer than this, e.g. 30s, 5m, 2h")
    .option("--tail <n>", "at most this many lines per agent, the newest", intArg(1, 5000), 200)
    .action(
      action("logs", (app: string | undefined, dep: string | undefined, opts: LogsFlags) =>
        logsCommand(app, dep, opts),
      ),
    );

  withTarget(
    program
      .command("call")
      .argument("<app>", "application name")
      .argument("<deployment>", "deployment name")
      .description("call a deployment once through a handle and print the result as JSON"),
  )
    .option("--method <name>", "method to call", "__call__")
    .option("--session <id>", "session id (ConsistentHash keeps a session on one replica)")
    .option("--data <json>", "the argument, as JSON (e.g. '\"hi\"' or '{\"a\":1}')")
    .option("--stream", "print each chunk of an async-generator method as a JSON line")
    .addOption(timeoutOption("give up after this long"))
    .action(
      action("call", (app: string, dep: string, opts: Parameters<typeof callCommand>[2]) =>
        callCommand(app, dep, opts),
      ),
    );

  withTarget(
    program
      .command("delete")
      .argument("<app>", "application name")
      .description("drain and remove an application"),
  ).action(action("delete", (app: string, opts: TargetFlags) => deleteCommand(app, opts)));

  withTarget(
    program
      .command("shutdown")
      .description("drain every application and stop the cluster (and the local head)"),
  ).action(action("shutdown", (opts: TargetFlags) => shutdownCommand(opts)));

  addClusterCommands(program, withTarget, action);
  return program;
}
