import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";

/**
 * "Machines" for multi-machine tests: Linux network namespaces, each with its own address on one
 * bridge in the root namespace (where the test process runs and can reach them all). A machine can
 * be cut off (its bridge port goes down: packets vanish, no resets, like a pulled cable; traffic
 * inside the machine keeps working), healed, or killed (cut, then every process in it SIGKILLed).
 *
 * Needs root and iproute2 (`ip netns`); {@link requireNetns} fails with a clear message otherwise.
 */

function ip(args: string[], allowFail = false): string {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.error || (r.status !== 0 && !allowFail)) {
    throw new Error(`ip ${args.join(" ")} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return r.stdout ?? "";
}

/** Throws an Error saying what is missing unless this process can create network namespaces. */
export function requireNetns(): void {
  if (process.platform !== "linux") throw new Error("multi-machine tests need Linux network namespaces");
  if (process.getuid?.() !== 0)
    throw new Error("multi-machine tests create network namespaces and must run as root (CI does)");
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(
      `\`ip netns\` is not available (${r.error?.message ?? r.stderr.trim()}): install iproute2 (scripts/setup.sh does)`,
    );
}

/** One namespace of a {@link NetnsLab}. */
export interface Machine {
  readonly name: string;
  /** Its address on the lab's bridge. */
  readonly ip: string;
  /** Starts a process inside the machine (stdout/stderr appended to `<logDir>/<label>.log`). */
  spawn(label: string, command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Pids of every process running in the machine. */
  pids(): number[];
  /** Pulls its cable: nothing goes in or out; processes inside keep running. */
  cut(): void;
  /** Plugs it back in. */
  heal(): void;
  /** Cuts it and SIGKILLs every process in it (a machine that lost power). */
  kill(): void;
  readonly isCut: boolean;
}

/** A bridge and some machines; `destroy()` kills everything in them and removes them. */
export interface NetnsLab extends AsyncDisposable {
  readonly machines: readonly Machine[];
  /** The bridge's address (the root namespace, where the test process runs). */
  readonly hostIp: string;
  destroy(): Promise<void>;
}

/** Labs created by this process: each gets its own names (a namespace is freed lazily). */
let labs = 0;

/** Creates `count` machines named `<tag>m1…`, addresses 10.<a>.<b>.11…; logs go to `logDir`. */
export function createNetnsLab(count: number, logDir: string): NetnsLab {
  requireNetns();
  mkdirSync(logDir, { recursive: true });
  const id = process.pid % 100_000;
  const tag = `tsv${id}${String.fromCharCode(97 + (labs++ % 26))}`;
  const net = `10.${201 + (id % 50)}.${Math.floor(id / 50) % 250}`;
  const bridge = `${tag}b`;
  // Leftovers of an earlier run with the same pid would make `add` fail.
  ip(["link", "del", bridge], true);
  ip(["link", "add", bridge, "type", "bridge"]);
  ip(["addr", "add", `${net}.1/24`, "dev", bridge]);
  ip(["link", "set", bridge, "up"]);
  const machines: Machine[] = [];
  const cleanup = (): void => {
    for (let i = 1; i <= count; i++) {
      ip(["link", "del", `${tag}h${i}`], true);
      ip(["netns", "del", `${tag}m${i}`], true);
    }
    ip(["link", "del", bridge], true);
  };
  try {
    addMachines();
  } catch (e) {
    for (const m of machines) m.kill();
    cleanup();
    throw e;
  }
  function addMachines(): void {
    for (let i = 1; i <= count; i++) {
      const ns = `${tag}m${i}`;
      const hostSide = `${tag}h${i}`;
      const addr = `${net}.${10 + i}`;
      ip(["netns", "del", ns], true);
      ip(["link", "del", hostSide], true);
      ip(["netns", "add", ns]);
      ip(["link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      ip(["link", "set", hostSide, "master", bridge]);
      ip(["link", "set", hostSide, "up"]);
      ip(["netns", "exec", ns, "ip", "addr", "add", `${addr}/24`, "dev", "eth0"]);
      ip(["netns", "exec", ns, "ip", "link", "set", "eth0", "up"]);
      ip(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
      let cut = false;
      const pids = (): number[] =>
        ip(["netns", "pids", ns], true)
          .split("\n")
          .map((l) => Number(l.trim()))
          .filter((n) => Number.isInteger(n) && n > 0);
      machines.push({
        name: `m${i}`,
        ip: addr,
        spawn: (label, command, args, env) => {
          const fd = openSync(join(logDir, `m${i}-${label}.log`), "a");
          // `ip netns exec` execs the command: the child's pid is the command's own.
          const child = spawn("ip", ["netns", "exec", ns, command, ...args], {
            stdio: ["ignore", fd, fd],
            env: { ...process.env, ...env },
          });
          closeSync(fd);
          return child;
        },
        pids,
        cut: () => {
          ip(["link", "set", hostSide, "down"]);
          cut = true;
        },
        heal: () => {
          ip(["link", "set", hostSide, "up"]);
          cut = false;
        },
        kill: () => {
          ip(["link", "set", hostSide, "down"]);
          cut = true;
          for (const pid of pids()) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
        },
        get isCut() {
          return cut;
        },
      });
    }
  }
  let destroyed = false;
  const lab: NetnsLab = {
    machines,
    hostIp: `${net}.1`,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      for (const m of machines) m.kill();
      // Give the kernel a moment to reap them before the namespaces go.
      await new Promise((r) => setTimeout(r, 200));
      // Deleting one end of a veth pair deletes both, now rather than when the kernel frees the namespace.
      cleanup();
    },
    [Symbol.asyncDispose]: () => lab.destroy(),
  };
  return lab;
}
