import { existsSync, readFileSync } from "node:fs";
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from "nats";
import { ConfigError } from "./errors.js";

/**
 * Environment variables carrying NATS credentials and TLS files. Every tsserve process reads them
 * (`natsAuthFromEnv()`), and child processes inherit them (local cluster → controller and agents,
 * agent → replicas), so credentials given once reach every component. The CLI flags
 * `--nats-user --nats-password --nats-token --nats-nkey --nats-creds --tls-ca --tls-cert --tls-key`
 * set these variables.
 */
export const NATS_AUTH_ENV = {
  user: "TSSERVE_NATS_USER",
  password: "TSSERVE_NATS_PASSWORD",
  token: "TSSERVE_NATS_TOKEN",
  /** Path of a file holding an nkey seed (`SU…`). */
  nkey: "TSSERVE_NATS_NKEY",
  /** Path of a `.creds` file (JWT + seed, decentralized auth). */
  creds: "TSSERVE_NATS_CREDS",
  /** Path of the CA certificate (PEM) that signed the server's certificate. */
  tlsCa: "TSSERVE_NATS_TLS_CA",
  /** Path of this client's certificate (PEM), for servers that verify clients. */
  tlsCert: "TSSERVE_NATS_TLS_CERT",
  /** Path of this client's private key (PEM). */
  tlsKey: "TSSERVE_NATS_TLS_KEY",
  /**
   * Inbox prefix for replies (nats.js `inboxPrefix`): a user allowed to subscribe only to
   * `<prefix>.>` (see `tsserve nats-config`) must open its inboxes there. @default "_INBOX"
   */
  inboxPrefix: "TSSERVE_NATS_INBOX_PREFIX",
} as const;

/** The part of the nats.js connection options that {@link natsAuthFromEnv} fills in. */
export type NatsAuthOptions = Pick<
  ConnectionOptions,
  "user" | "pass" | "token" | "authenticator" | "tls" | "inboxPrefix"
>;

/** Reads a file named by an environment variable, with a ConfigError naming both when it is missing. */
function readNamedFile(variable: string, path: string): Uint8Array {
  if (!existsSync(path)) {
    throw new ConfigError(
      `${variable}=${JSON.stringify(path)}: no such file; give the path of an existing file`,
    );
  }
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(
      `${variable}=${JSON.stringify(path)}: cannot read it: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function checkFile(variable: string, path: string): string {
  readNamedFile(variable, path);
  return path;
}

/**
 * Maps the `TSSERVE_NATS_*` environment variables to nats.js connection options: user and
 * password, token, an nkey seed file or a creds file (one method at most), and TLS files. Returns
 * `{}` when none is set, so `{ ...natsAuthFromEnv(), ...yourOptions }` is always safe.
 * Throws a ConfigError naming the variable when a named file is missing, when user and password
 * are not given together, when several auth methods are given, or when a TLS cert lacks its key.
 */
export function natsAuthFromEnv(env: NodeJS.ProcessEnv = process.env): NatsAuthOptions {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === "" ? undefined : v;
  };
  const user = get(NATS_AUTH_ENV.user);
  const password = get(NATS_AUTH_ENV.password);
  const token = get(NATS_AUTH_ENV.token);
  const nkey = get(NATS_AUTH_ENV.nkey);
  const creds = get(NATS_AUTH_ENV.creds);
  const out: NatsAuthOptions = {};

  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError(
      `${NATS_AUTH_ENV.user} and ${NATS_AUTH_ENV.password} go together: got only ${user === undefined ? NATS_AUTH_ENV.password : NATS_AUTH_ENV.user}`,
    );
  }
  const methods = [
    user !== undefined ? `${NATS_AUTH_ENV.user}/${NATS_AUTH_ENV.password}` : null,
    token !== undefined ? NATS_AUTH_ENV.token : null,
    nkey !== undefined ? NATS_AUTH_ENV.nkey : null,
    creds !== undefined ? NATS_AUTH_ENV.creds : null,
  ].filter((m): m is string => m !== null);
  if (methods.length > 1) {
    // A NATS server checks one method per user; sending several hides which one was meant.
    throw new ConfigError(`several NATS auth methods given (${methods.join(", ")}); set only one`);
  }
  if (user !== undefined) {
    out.user = user;
    out.pass = password;
  }
  if (token !== undefined) out.token = token;
  if (nkey !== undefined) {
    const seed = new TextDecoder().decode(readNamedFile(NATS_AUTH_ENV.nkey, nkey)).trim();
    if (!seed.startsWith("S")) {
      throw new ConfigError(
        `${NATS_AUTH_ENV.nkey}=${JSON.stringify(nkey)}: the file must hold an nkey seed (starting with "S")`,
      );
    }
    out.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (creds !== undefined) out.authenticator = credsAuthenticator(readNamedFile(NATS_AUTH_ENV.creds, creds));

  const inboxPrefix = get(NATS_AUTH_ENV.inboxPrefix);
  if (inboxPrefix !== undefined) {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(inboxPrefix))
      throw new ConfigError(
        `${NATS_AUTH_ENV.inboxPrefix}=${JSON.stringify(inboxPrefix)}: use subject tokens (letters, digits, _ -) joined by dots`,
      );
    out.inboxPrefix = inboxPrefix;
  }
  const ca = get(NATS_AUTH_ENV.tlsCa);
  const cert = get(NATS_AUTH_ENV.tlsCert);
  const key = get(NATS_AUTH_ENV.tlsKey);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      `${NATS_AUTH_ENV.tlsCert} and ${NATS_AUTH_ENV.tlsKey} go together: got only ${cert === undefined ? NATS_AUTH_ENV.tlsKey : NATS_AUTH_ENV.tlsCert}`,
    );
  }
  if (ca !== undefined || cert !== undefined) {
    out.tls = {};
    if (ca !== undefined) out.tls.caFile = checkFile(NATS_AUTH_ENV.tlsCa, ca);
    if (cert !== undefined && key !== undefined) {
      out.tls.certFile = checkFile(NATS_AUTH_ENV.tlsCert, cert);
      out.tls.keyFile = checkFile(NATS_AUTH_ENV.tlsKey, key);
    }
  }
  return out;
}

/** The CLI flags and the variable each one sets (for commander option lists and help text). */
export const NATS_AUTH_FLAGS = {
  "--nats-user": NATS_AUTH_ENV.user,
  "--nats-password": NATS_AUTH_ENV.password,
  "--nats-token": NATS_AUTH_ENV.token,
  "--nats-nkey": NATS_AUTH_ENV.nkey,
  "--nats-creds": NATS_AUTH_ENV.creds,
  "--tls-ca": NATS_AUTH_ENV.tlsCa,
  "--tls-cert": NATS_AUTH_ENV.tlsCert,
  "--tls-key": NATS_AUTH_ENV.tlsKey,
  "--nats-inbox-prefix": NATS_AUTH_ENV.inboxPrefix,
} as const;

/**
 * Copies flag values into `env` (default: this process's environment) so that this process and
 * every child it starts connect with them. Flags left undefined keep the variable's current value.
 */
export function applyNatsAuthFlags(
  flags: Partial<Record<keyof typeof NATS_AUTH_FLAGS, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [flag, variable] of Object.entries(NATS_AUTH_FLAGS)) {
    const value = flags[flag as keyof typeof NATS_AUTH_FLAGS];
    if (value !== undefined) env[variable] = value;
  }
}
