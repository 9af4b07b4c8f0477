import { readFileSync } from "node:fs";
import { ConfigError } from "@tsserve/protocol";

/** An operating-system account replicas can run as. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Looks a user up by name or numeric id in /etc/passwd. Replicas run as a user of their own so
 * that user code cannot read the agent's credentials (its /proc/<pid>/environ and credential files
 * are readable only by the agent's user). ConfigError when there is no such user.
 */
export function lookupOsUser(nameOrId: string, passwd = "/etc/passwd"): OsUser {
  let text = "";
  try {
    text = readFileSync(passwd, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read ${passwd} to look up user ${nameOrId}: ${(e as Error).message}`);
  }
  for (const line of text.split("\n")) {
    const [name, , uid, gid, , home] = line.split(":");
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name === nameOrId || uid === nameOrId)
      return { name, uid: Number(uid), gid: Number(gid), home: home ?? "/" };
  }
  throw new ConfigError(`replica user ${JSON.stringify(nameOrId)}: no such user in ${passwd}`);
}
