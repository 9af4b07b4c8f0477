import { spawn, spawnSync, type StdioOptions } from "node:child_process";
import { mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { connect } from "nats";
import { ConfigError, UnavailableError } from "@tsserve/protocol";
import { pidAlive, stopPid } from "./pid-utils.js";

/** The port `tsserve start` prefers for its embedded nats-server. */
export const DEFAULT_NATS_PORT = 4222;
/** The default state directory of a local head. */
export const DEFAULT_STATE_DIR = ".tsserve";

const INSTALL_HINT = "install it with `apt-get install -y nats-server`";

/** Options of {@link startEmbeddedNats}. */
export interface EmbeddedNatsOptions {
  /** Holds the config, the JetStream store, the pid file and the log. @default DEFAULT_STATE_DIR */
  stateDir?: string;
  /** Port to bind on 127.0.0.1; a free one is used if it is taken. @default DEFAULT_NATS_PORT */
  port?: number;
  /** The nats-server binary. @default $NATS_SERVER_BIN, else nats-server on PATH, /usr/sbin, /usr/bin */
  binary?: string;
  /** How long to wait for the server to accept connections. @default 10000 */
  startTimeoutMs?: number;
  /**
   * Keep running when this process exits (its own process group, output to `nats.log`), for a
   * head that runs in the background. @default false
   */
  detached?: boolean;
}

/** A running embedded nats-server. */
export interface EmbeddedNats extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Where its pid is written. */
  readonly pidFile: string;
  /** SIGTERM by pid (SIGKILL after 5 s); removes the pid file. */
  stop(): Promise<void>;
}

/** Finds a working nats-server binary or throws a clear error saying how to install it. */
export function findNatsServer(binary?: string): string {
  const candidates = binary
    ? [binary]
    : [process.env["NATS_SERVER_BIN"], "nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"];
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ["--version"], { encoding: "utf8", timeout: 5000 });
    if (r.status === 0) return c;
  }
  const tried = candidates.filter(Boolean).join(", ");
  throw new ConfigError(`nats-server not found: ${INSTALL_HINT} (tried ${tried})`, { data: { tried } });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

async function choosePort(preferred: number): Promise<number> {
  if (await portFree(preferred)) return preferred;
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => res(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts nats-server with JetStream on 127.0.0.1, its store under `<stateDir>/nats`, writes its pid
 * to `<stateDir>/nats.pid`, and resolves once it accepts connections.
 */
export async function startEmbeddedNats(options: EmbeddedNatsOptions = {}): Promise<EmbeddedNats> {
  const bin = findNatsServer(options.binary);
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const dir = join(stateDir, "nats");
  mkdirSync(dir, { recursive: true });
  const port = await choosePort(options.port ?? DEFAULT_NATS_PORT);
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(join(dir, "jetstream"))} }\n`,
  );
  const logFile = join(stateDir, "nats.log");
  const stdio: StdioOptions = options.detached
    ? ["ignore", openSync(logFile, "a"), openSync(logFile, "a")]
    : ["ignore", "ignore", "pipe"];
  const child = spawn(bin, ["-c", conf], { stdio, detached: options.detached ?? false });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const spawnFailed = new Promise<Error>((r) => child.once("error", r));
  if (options.detached) child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new UnavailableError(`could not start ${bin}: ${(await spawnFailed).message}`);
  const url = `nats://127.0.0.1:${port}`;
  const pidFile = join(stateDir, "nats.pid");
  try {
    await waitForConnections(url, pid, options.startTimeoutMs ?? 10_000, () => log || `see ${logFile}`);
  } catch (e) {
    await stopPid(pid, 2000);
    throw e;
  }
  writeFileSync(pidFile, `${pid}\n`);
  const stop = async (): Promise<void> => {
    await stopPid(pid, 5000);
    rmSync(pidFile, { force: true });
  };
  return { url, port, pid, pidFile, stop, [Symbol.asyncDispose]: stop };
}

async function waitForConnections(
  url: string,
  pid: number,
  timeoutMs: number,
  logs: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) throw new UnavailableError(`nats-server exited during startup: ${logs()}`);
    try {
      const nc = await connect({ servers: url, timeout: 500, reconnect: false });
      await nc.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new UnavailableError(
    `nats-server did not accept connections at ${url} within ${timeoutMs} ms: ${logs()}`,
  );
}
