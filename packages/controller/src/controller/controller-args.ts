import { ConfigError, DEFAULT_PREFIX } from "@tsserve/protocol";

/** What `controller-main` is started with. */
export interface ControllerArgs {
  address: string;
  prefix: string;
  controllerId?: string;
}

const USAGE = "usage: controller-main --address URL [--prefix P] [--controller-id ID]";

/**
 * Parses `--address URL [--prefix P] [--controller-id ID]` (also `--flag=value`), falling back to
 * the environment variables TSSERVE_ADDRESS and TSSERVE_PREFIX.
 */
export function parseControllerArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ControllerArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(address|prefix|controller-id)(?:=(.*))?$/.exec(arg);
    if (!m) throw new ConfigError(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value.length === 0) throw new ConfigError(`--${m[1]} needs a value; ${USAGE}`);
    values.set(m[1]!, value);
  }
  const address = values.get("address") ?? env["TSSERVE_ADDRESS"];
  if (!address) throw new ConfigError(`no NATS address: pass --address URL or set TSSERVE_ADDRESS; ${USAGE}`);
  const out: ControllerArgs = {
    address,
    prefix: values.get("prefix") ?? env["TSSERVE_PREFIX"] ?? DEFAULT_PREFIX,
  };
  const id = values.get("controller-id");
  if (id !== undefined) out.controllerId = id;
  return out;
}
