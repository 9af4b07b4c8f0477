import { ControllerClient } from "@tsserve/controller";
import { Client } from "@tsserve/handle";
import { ConfigError, DeploymentNotFoundError, type StatusReport } from "@tsserve/protocol";
import { openConnection, type Target } from "../head/target.js";

/** What `tsserve call` sends. */
export interface CallOptions {
  /** Method name. @default "__call__" */
  method?: string;
  /** Session id (ConsistentHash keeps a session on one replica). */
  sessionId?: string;
  /** The argument as JSON text; absent = call with no arguments. */
  data?: string;
  /** Iterate the chunks of an async-generator method. */
  stream?: boolean;
  /** Give up after this long. @default 60000 */
  timeoutMs?: number;
}

/** Parses `--data`: any JSON value; the error names the flag, the text and the parser's complaint. */
export function parseCallData(data: string | undefined): unknown[] {
  if (data === undefined) return [];
  try {
    return [JSON.parse(data) as unknown];
  } catch (e) {
    throw new ConfigError(
      `--data: expected a JSON value (e.g. '"hi"', '{"a":1}', '[1,2]'), got ${JSON.stringify(data)}: ${(e as Error).message}`,
    );
  }
}

/** Throws DeploymentNotFoundError listing what exists when `app`/`deployment` is not deployed. */
export function assertDeployed(report: StatusReport, app: string, deployment?: string): void {
  const a = report.applications.find((x) => x.name === app);
  if (a === undefined) {
    const known = report.applications.map((x) => x.name);
    throw new DeploymentNotFoundError(
      `unknown application ${JSON.stringify(app)}; deployed applications: ${known.length > 0 ? known.join(", ") : "(none)"}`,
    );
  }
  if (deployment !== undefined && !a.deployments.some((d) => d.name === deployment)) {
    throw new DeploymentNotFoundError(
      `unknown deployment ${JSON.stringify(deployment)} in application ${JSON.stringify(app)}; ` +
        `its deployments: ${a.deployments.map((d) => d.name).join(", ")}`,
    );
  }
}

/**
 * Calls one deployment through a real DeploymentHandle (same routing as any client). The app and
 * deployment are checked against the controller first so a typo gets a list of what exists.
 * Unary calls resolve to the value; streams hand each chunk to `onChunk` and resolve to undefined.
 * A promise from `onChunk` is awaited before the next chunk is read, so a slow sink (a full stdout
 * pipe) slows the replica down through the stream's flow control instead of buffering here.
 */
export async function callDeployment(
  target: Target,
  app: string,
  deployment: string,
  options: CallOptions,
  onChunk: (chunk: unknown) => void | Promise<void> = () => {},
): Promise<unknown> {
  const args = parseCallData(options.data);
  const nc = await openConnection(target);
  try {
    const ctl = new ControllerClient(nc, { prefix: target.prefix, address: target.address });
    assertDeployed(await ctl.status(), app, deployment);
    const client = Client.fromConnection(nc, { prefix: target.prefix });
    try {
      const base = client.getDeploymentHandle(deployment, { app });
      const callOpts = {
        method: options.method ?? "__call__",
        sessionId: options.sessionId ?? null,
        timeoutMs: options.timeoutMs ?? 60_000,
      };
      if (options.stream) {
        for await (const chunk of base.options({ ...callOpts, stream: true }).remote(...args)) {
          const wait = onChunk(chunk);
          if (wait !== undefined) await wait;
        }
        return undefined;
      }
      return await base.options({ ...callOpts, stream: false }).remote(...args);
    } finally {
      await client.close();
    }
  } finally {
    await nc.close();
  }
}
