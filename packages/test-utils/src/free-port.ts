import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Lowest port handed out; the range ends below the OS's ephemeral ports. */
const LOW = 20_000;
/** Ports this process handed out: never twice, even once their first user has closed them. */
const handedOut = new Set<number>();

/**
 * A TCP port free on 127.0.0.1 right now, for a server a test is about to start. Chosen at random
 * below the OS's ephemeral range (32768 on Linux): a port the OS picks for `listen(0)` comes from
 * the range it also gives outgoing connections their source ports from, so in a busy suite a NATS
 * or HTTP client could take it before the server bound it (seen: a head's HTTP port "already in
 * use"). Falls back to the OS's pick when that range is too small to choose from.
 */
export async function freePort(): Promise<number> {
  const high = Math.min(ephemeralLow(), 32_768) - 1;
  if (high - LOW >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = LOW + Math.floor(Math.random() * (high - LOW + 1));
      if (handedOut.has(port)) continue;
      if ((await listenOnce(port)) === port) {
        handedOut.add(port);
        return port;
      }
    }
  }
  const port = await listenOnce(0);
  if (port <= 0) throw new Error("freePort: the OS found no free port on 127.0.0.1");
  handedOut.add(port);
  return port;
}

/** The first port of the OS's ephemeral range (Linux), or 32768 when it cannot be read. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Listens on 127.0.0.1:`port` and closes again: the port bound, or -1 when it is taken. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", (e: NodeJS.ErrnoException) =>
      e.code === "EADDRINUSE" || e.code === "EACCES" ? resolve(-1) : reject(e),
    );
    srv.listen(port, "127.0.0.1", () => {
      const addr = srv.address();
      const bound = typeof addr === "object" && addr ? addr.port : -1;
      srv.close(() => resolve(bound));
    });
  });
}
