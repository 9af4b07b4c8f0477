import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_PREFIX, NATS_AUTH_ENV, validatePrefix, validateToken } from "@tsserve/protocol/internal";
import { defaultStateBucket } from "@tsserve/controller/internal";
import { replicaRoleVariable } from "./replica-env.js";

/**
 * NATS users per tsserve role, with subject permissions (internals.md "Authorization"):
 *
 * | role | publishes | subscribes |
 * |---|---|---|
 * | controller | everything under the prefix, JetStream API and its KV bucket | everything under the prefix |
 * | agent | its heartbeats and exit reports; replies to commands | start / stop / shutdown commands |
 * | replica | heartbeats; calls to other deployments (composition); session forwards and hand-offs; session buckets (KV, not the controller's); replies | requests, probes, session forwards and hand-offs, its stop orders, membership |
 * | client | calls, probes, handle metrics, `ctl.members` | membership, its own inbox |
 * | admin | controller API (`ctl.*`), calls | everything under the prefix (status, logs), its own inbox |
 *
 * Every role has its own inbox prefix (`_INBOX_<role>`), so no user can read another's replies;
 * each client user gets its own. Replies to requests a user received are allowed by
 * `allow_responses`, not by a publish permission on `_INBOX.>`.
 */

/** The roles a cluster needs. */
export type NatsRole = "controller" | "agent" | "replica" | "client" | "admin";

/** Options of {@link natsRoles}. */
export interface NatsRolesOptions {
  /** Subject prefix of the cluster. @default DEFAULT_PREFIX */
  prefix?: string;
  /** JetStream KV bucket of the controller. @default `tsserve_<prefix>` as the controller names it */
  bucket?: string;
  /** Names of client users (each gets its own user and inbox prefix). @default ["client"] */
  clients?: string[];
}

/** One generated user. */
export interface NatsRoleUser {
  role: NatsRole;
  /** The role, or a client's name: names its env file. */
  name: string;
  user: string;
  password: string;
  inboxPrefix: string;
  publish: string[];
  /** Subjects denied even where `publish` allows them (the replica role: the controller's bucket). */
  publishDeny?: string[];
  subscribe: string[];
  allowResponses: boolean;
}

function password(): string {
  return randomBytes(24).toString("base64url");
}

/** The users and permissions of one cluster (fresh random passwords). */
export function natsRoles(options: NatsRolesOptions = {}): NatsRoleUser[] {
  const p = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const bucket = options.bucket ?? defaultStateBucket(p);
  const user = (
    role: NatsRole,
    name: string,
    publish: string[],
    subscribe: string[],
    allowResponses: boolean,
  ): NatsRoleUser => {
    const inboxPrefix = `_INBOX_${name}`;
    return {
      role,
      name,
      user: `${p}-${name}`,
      password: password(),
      inboxPrefix,
      publish,
      subscribe: [...subscribe, `${inboxPrefix}.>`],
      allowResponses,
    };
  };
  const calls = [`${p}.req.>`, `${p}.probe.>`, `${p}.hmetrics.>`, `${p}.ctl.members`];
  const clients = options.clients ?? ["client"];
  return [
    user(
      "controller",
      "controller",
      [`${p}.>`, "$JS.API.>", `$KV.${bucket}.>`],
      [`${p}.>`, `$KV.${bucket}.>`],
      true,
    ),
    user(
      "agent",
      "agent",
      [`${p}.agent.*.hb`, `${p}.agent.*.exit`],
      [`${p}.agent.*.start`, `${p}.agent.*.stop`, `${p}.agent.*.shutdown`],
      true,
    ),
    {
      ...user(
        "replica",
        "replica",
        // Session state (stateful deployments): forwards and hand-offs between replicas, and the
        // session buckets, whose names are not known here: every KV bucket's keys and the JetStream
        // reads a KV client makes, except the controller's own bucket.
        [
          `${p}.hb.>`,
          ...calls,
          `${p}.sfwd.>`,
          `${p}.shand.>`,
          "$KV.>",
          "$JS.API.STREAM.INFO.*",
          "$JS.API.STREAM.MSG.GET.*",
          "$JS.API.DIRECT.GET.>",
        ],
        [`${p}.req.>`, `${p}.probe.>`, `${p}.rctl.>`, `${p}.members.>`, `${p}.sfwd.>`, `${p}.shand.>`],
        true,
      ),
      publishDeny: [
        `$KV.${bucket}.>`,
        `$JS.API.STREAM.INFO.KV_${bucket}`,
        `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
        `$JS.API.DIRECT.GET.KV_${bucket}`,
        `$JS.API.DIRECT.GET.KV_${bucket}.>`,
      ],
    },
    ...clients.map((c) => user("client", validateToken("client name", c), calls, [`${p}.members.>`], false)),
    user("admin", "admin", [`${p}.ctl.>`, ...calls.slice(0, 3)], [`${p}.>`], false),
  ];
}

const q = (s: string): string => JSON.stringify(s);

/** The `authorization { users = [...] }` block for nats-server.conf (include it, or paste it). */
export function natsAuthorizationConfig(users: readonly NatsRoleUser[]): string {
  const lines = [
    "# Generated by `tsserve nats-config`: one user per tsserve role.",
    "authorization {",
    "  users = [",
  ];
  for (const u of users) {
    lines.push(
      `    { user: ${q(u.user)}, password: ${q(u.password)}, permissions: {`,
      `        publish: { allow: [${u.publish.map(q).join(", ")}]${u.publishDeny ? `, deny: [${u.publishDeny.map(q).join(", ")}]` : ""} }`,
      `        subscribe: { allow: [${u.subscribe.map(q).join(", ")}] }`,
      ...(u.allowResponses ? ["        allow_responses: true"] : []),
      `    } }  # ${u.role}`,
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}

/** The environment a process of this role connects with (`set -a; . role.env; set +a`). */
export function roleEnvironment(u: NatsRoleUser, replica?: NatsRoleUser): Record<string, string> {
  const env: Record<string, string> = {
    [NATS_AUTH_ENV.user]: u.user,
    [NATS_AUTH_ENV.password]: u.password,
    [NATS_AUTH_ENV.inboxPrefix]: u.inboxPrefix,
  };
  // An agent hands its replicas the replica role's credentials, never its own.
  if (replica) {
    env[replicaRoleVariable(NATS_AUTH_ENV.user)] = replica.user;
    env[replicaRoleVariable(NATS_AUTH_ENV.password)] = replica.password;
    env[replicaRoleVariable(NATS_AUTH_ENV.inboxPrefix)] = replica.inboxPrefix;
  }
  return env;
}

/** Files written by {@link writeNatsRoles}. */
export interface NatsRoleFiles {
  /** The authorization block to include in nats-server.conf. */
  config: string;
  /** One `<name>.env` per user (controller, agent, client…, admin), mode 0600. */
  envFiles: Record<string, string>;
}

/**
 * Writes `nats-auth.conf` and one env file per role into `dir` (created, mode 0700). The replica
 * role has no env file of its own: its credentials are in agent.env (as TSSERVE_REPLICA_NATS_*).
 */
export function writeNatsRoles(dir: string, options: NatsRolesOptions = {}): NatsRoleFiles {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
  const users = natsRoles(options);
  const replica = users.find((u) => u.role === "replica")!;
  const write = (name: string, text: string): string => {
    const path = join(out, name);
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
    return path;
  };
  const config = write("nats-auth.conf", natsAuthorizationConfig(users));
  const envFiles: Record<string, string> = {};
  for (const u of users) {
    if (u.role === "replica") continue;
    const env = roleEnvironment(u, u.role === "agent" ? replica : undefined);
    const name = u.name;
    const text = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n");
    envFiles[name] = write(`${name}.env`, `${text}\n`);
  }
  return { config, envFiles };
}
