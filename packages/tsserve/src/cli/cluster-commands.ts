import { spawn } from "node:child_process";
import type { Command } from "commander";
import { parentWatchNodeArg, writeNatsRoles } from "@tsserve/cluster/internal";
import { controllerEntryPath } from "@tsserve/controller/internal";
import { DEFAULT_PREFIX } from "@tsserve/protocol/internal";
import { resolveTarget, type TargetFlags } from "../head/target.js";

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Flags of `tsserve controller`. */
export interface ControllerFlags extends TargetFlags {
  controllerId?: string;
  kvReplicas?: number;
}

/**
 * `tsserve controller`: a controller process in the foreground, e.g. a standby on a second machine.
 * It competes for the leader lease and takes over within the lease TTL if the leader dies.
 */
export async function controllerCommand(opts: ControllerFlags): Promise<void> {
  const target = resolveTarget(opts);
  const args = ["--address", target.address, "--prefix", target.prefix];
  if (opts.controllerId !== undefined) args.push("--controller-id", opts.controllerId);
  if (opts.kvReplicas !== undefined) args.push("--kv-replicas", String(opts.kvReplicas));
  // Own process group, so one Ctrl-C reaches it once (forwarded below).
  const child = spawn(process.execPath, [parentWatchNodeArg(), controllerEntryPath(), ...args], {
    stdio: "inherit",
    detached: true,
  });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  process.exit(code);
}

/** `tsserve nats-config --out DIR`: per-role NATS users and their env files. */
export function natsConfigCommand(opts: { out: string; prefix?: string; client?: string[] }): Promise<void> {
  const files = writeNatsRoles(opts.out, {
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    ...(opts.client && opts.client.length > 0 ? { clients: opts.client } : {}),
  });
  out(`wrote ${files.config} (include it in nats-server.conf: include "${files.config}")`);
  for (const [name, path] of Object.entries(files.envFiles)) out(`wrote ${path} (${name})`);
  out("load one per process: set -a; . <role>.env; set +a   (agent.env also carries the replicas' user)");
  return Promise.resolve();
}

type WithTarget = (cmd: Command) => Command;
type Action = <A extends unknown[]>(
  name: string,
  body: (...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds `controller` and `nats-config` to the program. */
export function addClusterCommands(program: Command, withTarget: WithTarget, action: Action): void {
  withTarget(
    program
      .command("controller")
      .description("run a controller (a standby on another machine takes over if the leader's dies)"),
  )
    .option("--controller-id <id>", "this controller's id in the leader lease")
    .option("--kv-replicas <n>", "replicas of the state bucket (default: NATS cluster size, max 3)", (v) =>
      Number(v),
    )
    .action(action("controller", (opts: ControllerFlags) => controllerCommand(opts)));

  program
    .command("nats-config")
    .description(
      "write nats-server users with per-role permissions (controller, agent, replica, client, admin)",
    )
    .requiredOption("--out <dir>", "directory for nats-auth.conf and the <role>.env files (mode 0600)")
    .option("--prefix <prefix>", "subject prefix of the cluster", DEFAULT_PREFIX)
    .option("--client <name>", "a client user of its own (repeatable; default: one named client)", collect)
    .action(
      action("nats-config", (opts: { out: string; prefix?: string; client?: string[] }) =>
        natsConfigCommand(opts),
      ),
    );
}
