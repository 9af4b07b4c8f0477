import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseLogFileLine, type ReplicaSpec } from "@tsserve/protocol/internal";
import { queryLogFiles } from "./log-tail-server.js";
import { pruneReplicaLogs, ReplicaLogFile, replicaLogPath } from "./replica-log-files.js";

const dir = mkdtempSync(join(tmpdir(), "tsserve-logfiles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = { app: "a", deployment: "D", replicaId: "D-1", nodeId: "n1" } as ReplicaSpec;

describe("ReplicaLogFile", () => {
  it("writes timestamped lines with replica id and stream, joining lines split across chunks", () => {
    const path = replicaLogPath(dir, "a", "D", "D-1");
    const f = new ReplicaLogFile(path, spec);
    expect(f.write("stdout", "hel", 1000)).toEqual([]);
    const lines = f.write("stdout", "lo\nworld\n", 2000);
    expect(lines.map((l) => l.line)).toEqual(["hello", "world"]);
    f.write("stderr", "oops\n", 3000);
    expect(f.close()).toEqual([]);
    const raw = readFileSync(path, "utf8").trim().split("\n");
    expect(raw[0]).toBe("1970-01-01T00:00:02.000Z D-1 stdout hello");
    expect(parseLogFileLine(raw[2]!)).toEqual({ ts: 3000, replicaId: "D-1", stream: "stderr", line: "oops" });
  });

  it("rotates past maxBytes, keeping the newest lines, and the tail query reads across generations", () => {
    const path = replicaLogPath(dir, "a", "D", "D-2");
    const f = new ReplicaLogFile(path, { ...spec, replicaId: "D-2" }, 400, 2);
    for (let i = 0; i < 40; i++) f.write("stdout", `line ${i}\n`, 10_000 + i);
    f.close();
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const tail = queryLogFiles(dir, "n1", { app: "a", replicaId: "D-2", limit: 5 });
    expect(tail.map((l) => l.line)).toEqual(["line 35", "line 36", "line 37", "line 38", "line 39"]);
    const since = queryLogFiles(dir, "n1", { app: "a", replicaId: "D-2", sinceMs: 10_030 });
    expect(since[0]!.line).toBe("line 30");
    expect(since.every((l) => l.nodeId === "n1" && l.deployment === "D")).toBe(true);
  });

  it("prunes files not written for the retention period, and their emptied directories", () => {
    const old = replicaLogPath(dir, "gone", "G", "G-1");
    new ReplicaLogFile(old, { ...spec, app: "gone", deployment: "G", replicaId: "G-1" }).close();
    const later = Date.now() + 8 * 24 * 3600_000;
    expect(pruneReplicaLogs(dir, 7 * 24 * 3600_000, Date.now())).toBe(0);
    expect(pruneReplicaLogs(dir, 7 * 24 * 3600_000, later)).toBeGreaterThanOrEqual(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(join(dir, "replicas", "gone"))).toBe(false);
  });
});
