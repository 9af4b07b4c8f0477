import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { freePort } from "./free-port.js";
import { sleep } from "./wait-until.js";

export interface NatsServerOptions {
  /** Enable JetStream (the controller's KV needs it). @default true */
  jetstream?: boolean;
  /** Extra lines appended to the generated server config. */
  extraConfig?: string;
  /** Port to bind; a free one when omitted. */
  port?: number;
}

/** A real nats-server on a free loopback port, stopped by PID on dispose. */
export interface NatsServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
  /** Restart on the same port (e.g. to test reconnection). */
  restart(): Promise<void>;
}

const INSTALL_HINT = "install it with `apt-get install -y nats-server` (Debian) or put nats-server on PATH";

/** Finds the nats-server binary or throws a clear error saying how to install it. */
export function natsServerBinary(): string {
  const candidates = [
    process.env["NATS_SERVER_BIN"],
    "nats-server",
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
  ];
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return c;
  }
  throw new Error(`nats-server binary not found: ${INSTALL_HINT}`);
}

async function waitForServer(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}: ${logs()}`);
    try {
      const nc = await connect({ servers: url, timeout: 500, reconnect: false });
      await nc.close();
      return;
    } catch (e) {
      // An auth-protected server refusing us has started: that is all this check asks.
      if (/authorization/i.test(String((e as Error).message))) return;
      await sleep(50);
    }
  }
  throw new Error(`nats-server did not accept connections at ${url} within 10 s: ${logs()}`);
}

/** Starts nats-server bound to 127.0.0.1 with its own temp store directory. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "tsserve-nats-"));
  const conf = join(dir, "nats.conf");
  const js = options.jetstream ?? true;
  writeFileSync(
    conf,
    [
      `listen: "127.0.0.1:${port}"`,
      js ? `jetstream { store_dir: "${join(dir, "js")}" }` : "",
      options.extraConfig ?? "",
    ].join("\n"),
  );
  let child: ChildProcess;
  let log = "";
  const launch = async (): Promise<void> => {
    log = "";
    child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    await waitForServer(`nats://127.0.0.1:${port}`, child, () => log);
  };
  try {
    await launch();
  } catch (e) {
    // Never leak the process or its store when startup fails.
    child!.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const stopChild = async (): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
  };
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    get process() {
      return child;
    },
    stop: async () => {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      await launch();
    },
    [Symbol.asyncDispose]: async () => server.stop(),
  };
  return server;
}
