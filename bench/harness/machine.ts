import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

/** The machine and software a run measured, printed beside every table. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** `nats-server --version` of the local binary, or "not installed". */
  natsServer: string;
  /** Version of the `nats` client package the bench uses. */
  natsClient: string;
}

function procCpuModel(): string | null {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    return line ? line.split(":").slice(1).join(":").trim() : null;
  } catch {
    return null;
  }
}

function procMemoryGiB(): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) return Number(m[1]) / 1024 / 1024;
  } catch {
    // not Linux: fall back to the OS module
  }
  return totalmem() / 1024 ** 3;
}

function natsServerVersion(bin: string | undefined): string {
  for (const c of [bin, "nats-server", "/usr/sbin/nats-server"]) {
    if (!c) continue;
    const r = spawnSync(c, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return r.stdout.trim();
  }
  return "not installed";
}

function natsClientVersion(): string {
  try {
    const pkg = readFileSync(new URL("../node_modules/nats/package.json", import.meta.url), "utf8");
    return (JSON.parse(pkg) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Reads the machine description from /proc (CPU model, cores, memory) and the tool versions. */
export function machineInfo(): MachineInfo {
  let os = `${process.platform} ${process.arch}`;
  try {
    os = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
    os = `Linux ${os}`;
  } catch {
    // keep platform/arch
  }
  return {
    cpuModel: procCpuModel() ?? cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(procMemoryGiB() * 10) / 10,
    os,
    node: process.version,
    natsServer: natsServerVersion(process.env["NATS_SERVER_BIN"]),
    natsClient: natsClientVersion(),
  };
}

/** One Markdown line naming the machine, e.g. for a README. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}, ${m.natsServer}, nats.js ${m.natsClient}`;
}
