import { spawnSync } from "node:child_process";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "@tsserve/protocol";
import type { ReplicaSpec } from "@tsserve/protocol/internal";
import { REPLICA_MAIN } from "@tsserve/replica/internal";
import type { OsUser } from "./os-user.js";

// Runs as the replica's user: prints the first path it cannot read, with the error code.
const PROBE = `
const fs = require("node:fs");
for (const p of JSON.parse(process.argv[1])) {
  try { fs.accessSync(p, fs.constants.R_OK); } catch (e) { console.log(p + ": " + e.code); process.exit(1); }
}`;

/** The files a replica process must read: the runtime's entry, its cwd and the application module. */
function pathsToRead(spec: ReplicaSpec): string[] {
  const file = spec.importPath.split("#")[0] ?? spec.importPath;
  return [REPLICA_MAIN, isAbsolute(file) ? file : resolve(spec.cwd, file), spec.cwd];
}

/**
 * Throws a ConfigError when `user` cannot read what a replica needs (a checkout in a private folder,
 * such as /root or a 0700 `mktemp -d`): the start then fails at once with the reason, instead of a
 * replica that dies on import or a startup timeout. The agent runs as root, so its own access check
 * would pass: the probe runs as the user.
 */
export function checkReplicaUserAccess(spec: ReplicaSpec, user: OsUser): void {
  const r = spawnSync(process.execPath, ["-e", PROBE, JSON.stringify(pathsToRead(spec))], {
    uid: user.uid,
    gid: user.gid,
    cwd: "/",
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.status === 0) return;
  const why = r.stdout.trim() || r.error?.message || r.stderr.trim() || `exit ${String(r.status)}`;
  throw new ConfigError(`--replica-user ${user.name} cannot read ${why}`);
}
