import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as natsConnect, nkeys } from "nats";
import { ControllerClient } from "@tsserve/controller";
import { connect } from "@tsserve/handle";
import { isConfigError, isTsserveError } from "@tsserve/protocol";
import { natsAuthFromEnv, NATS_AUTH_ENV } from "@tsserve/protocol/internal";
import {
  startChaosCluster,
  targetApplication,
  waitConverged,
  type ChaosCluster,
} from "../src/chaos-cluster.js";
import { startNatsCluster, type NatsCluster } from "../src/nats-cluster.js";
import { generateTestCerts, type TestCerts } from "../src/tls-certs.js";

const PREFIX = "sec";
const USER = "tsuser";
const PASSWORD = "s3cret-pw";
const TOKEN = "t0ken-abc";

/** What a client without (or with) credentials gets when it tries to deploy or to call. */
async function tryDeployAndCall(
  url: string,
  env: NodeJS.ProcessEnv,
  app: string,
): Promise<{ deploy: string; call: string }> {
  let deploy: string;
  let call: string;
  try {
    const nc = await natsConnect({ ...natsAuthFromEnv(env), servers: url, reconnect: false, timeout: 2000 });
    const ctl = new ControllerClient(nc, { prefix: PREFIX }, true);
    await ctl.deploy({ applications: [targetApplication(app, { numReplicas: 1 })] });
    await ctl.close();
    deploy = "ok";
  } catch (e) {
    deploy = `refused: ${(e as Error).message}`;
  }
  try {
    const client = await connect({
      address: url,
      prefix: PREFIX,
      natsOptions: { ...natsAuthFromEnv(env), reconnect: false, timeout: 2000 },
    });
    try {
      const v = (await client
        .getDeploymentHandle<unknown>("Target", { app: "base" })
        .options({ timeoutMs: 5000 })
        .remote("hello")) as { input: unknown };
      call = v.input === "hello" ? "ok" : `wrong reply ${JSON.stringify(v)}`;
    } finally {
      await client.close();
    }
  } catch (e) {
    call = `refused: ${(e as Error).message}`;
  }
  return { deploy, call };
}

describe("NATS credentials and TLS", () => {
  let dir: string;
  let certs: TestCerts;
  let nats: NatsCluster;
  let cc: ChaosCluster;
  let nkeySeedFile: string;

  // n1: the trusted internal server the tsserve processes use (until every connect site reads
  // natsAuthFromEnv; see the report). n2: user/password and nkey users. n3: token over TLS.
  // They are one NATS cluster, so clients of n2 and n3 reach the same tsserve cluster.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsserve-sec-"));
    certs = generateTestCerts();
    const kp = nkeys.createUser();
    nkeySeedFile = join(dir, "user.nk");
    writeFileSync(nkeySeedFile, new TextDecoder().decode(kp.getSeed()));
    const nkeyPublic = kp.getPublicKey();
    nats = await startNatsCluster({
      nodeConfig: (i) =>
        i === 1
          ? `authorization { users: [ { user: ${USER}, password: "${PASSWORD}" }, { nkey: ${nkeyPublic} } ] }`
          : i === 2
            ? `authorization { token: "${TOKEN}" }\ntls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }`
            : "",
      checkOptions: (i) =>
        i === 1
          ? { user: USER, pass: PASSWORD }
          : i === 2
            ? { token: TOKEN, tls: { caFile: certs.caFile } }
            : {},
    });
    cc = await startChaosCluster({ address: nats.nodes[0]!.url, prefix: PREFIX, agents: 1 });
    await cc.cluster.client.deploy({ applications: [targetApplication("base", { numReplicas: 1 })] });
    await waitConverged(cc, "base", 1);
  });
  afterAll(async () => {
    await cc?.stop();
    await nats?.stop();
    certs?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("maps each TSSERVE_NATS_* variable and names a missing or conflicting one", () => {
    expect(natsAuthFromEnv({})).toEqual({});
    expect(natsAuthFromEnv({ [NATS_AUTH_ENV.user]: "u", [NATS_AUTH_ENV.password]: "p" })).toEqual({
      user: "u",
      pass: "p",
    });
    expect(natsAuthFromEnv({ [NATS_AUTH_ENV.token]: "t" })).toEqual({ token: "t" });
    expect(typeof natsAuthFromEnv({ [NATS_AUTH_ENV.nkey]: nkeySeedFile }).authenticator).toBe("function");
    expect(natsAuthFromEnv({ [NATS_AUTH_ENV.tlsCa]: certs.caFile }).tls).toEqual({ caFile: certs.caFile });
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [
        { [NATS_AUTH_ENV.creds]: "/nope/user.creds" },
        /TSSERVE_NATS_CREDS="\/nope\/user.creds": no such file/,
      ],
      [{ [NATS_AUTH_ENV.nkey]: "/nope/user.nk" }, /TSSERVE_NATS_NKEY="\/nope\/user.nk": no such file/],
      [{ [NATS_AUTH_ENV.nkey]: certs.caFile }, /must hold an nkey seed/],
      [{ [NATS_AUTH_ENV.tlsCa]: "/nope/ca.pem" }, /TSSERVE_NATS_TLS_CA="\/nope\/ca.pem": no such file/],
      [
        { [NATS_AUTH_ENV.tlsCert]: certs.clientCertFile },
        /TSSERVE_NATS_TLS_CERT and TSSERVE_NATS_TLS_KEY go together/,
      ],
      [{ [NATS_AUTH_ENV.user]: "u" }, /go together: got only TSSERVE_NATS_USER/],
      [
        { [NATS_AUTH_ENV.token]: "t", [NATS_AUTH_ENV.user]: "u", [NATS_AUTH_ENV.password]: "p" },
        /several NATS auth methods/,
      ],
    ];
    for (const [env, message] of bad) {
      let error: unknown;
      try {
        natsAuthFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("refuses deploy and call without credentials on a user/password server, and allows both with them", async () => {
    const url = nats.nodes[1]!.url;
    const none = await tryDeployAndCall(url, {}, "anon");
    const wrong = await tryDeployAndCall(
      url,
      { [NATS_AUTH_ENV.user]: USER, [NATS_AUTH_ENV.password]: "guess" },
      "anon",
    );
    const good = await tryDeployAndCall(
      url,
      { [NATS_AUTH_ENV.user]: USER, [NATS_AUTH_ENV.password]: PASSWORD },
      "withpw",
    );
    const nkey = await tryDeployAndCall(url, { [NATS_AUTH_ENV.nkey]: nkeySeedFile }, "withnkey");
    console.log(JSON.stringify({ none, wrong, good, nkey }, null, 2));
    for (const r of [none, wrong]) {
      expect(r.deploy).toMatch(/refused: .*Authorization Violation/i);
      expect(r.call).toMatch(/refused: .*Authorization Violation/i);
    }
    expect(good).toEqual({ deploy: "ok", call: "ok" });
    expect(nkey).toEqual({ deploy: "ok", call: "ok" });
    // The refused deploys never reached the controller; the accepted ones did.
    const apps = (await cc.cluster.client.status()).applications.map((a) => a.name).sort();
    expect(apps).toEqual(["base", "withnkey", "withpw"]);
  });

  it("refuses clients without the token or without the CA on a token + TLS server", async () => {
    const url = nats.nodes[2]!.url;
    const none = await tryDeployAndCall(url, {}, "anon");
    const noTls = await tryDeployAndCall(url, { [NATS_AUTH_ENV.token]: TOKEN }, "anon");
    const noToken = await tryDeployAndCall(url, { [NATS_AUTH_ENV.tlsCa]: certs.caFile }, "anon");
    const good = await tryDeployAndCall(
      url,
      { [NATS_AUTH_ENV.token]: TOKEN, [NATS_AUTH_ENV.tlsCa]: certs.caFile },
      "withtoken",
    );
    console.log(JSON.stringify({ none, noTls, noToken, good }, null, 2));
    for (const r of [none, noTls, noToken]) {
      expect(r.deploy).toMatch(/^refused: /);
      expect(r.call).toMatch(/^refused: /);
    }
    expect(noToken.call).toMatch(/Authorization Violation/i);
    expect(good).toEqual({ deploy: "ok", call: "ok" });
  });

  it("reports a clear typed error, not a hang, when a component gets a bad credentials file", async () => {
    let error: unknown;
    try {
      await connect({
        address: nats.nodes[1]!.url,
        prefix: PREFIX,
        natsOptions: natsAuthFromEnv({ [NATS_AUTH_ENV.creds]: join(dir, "missing.creds") }),
      });
    } catch (e) {
      error = e;
    }
    expect(isTsserveError(error)).toBe(true);
    expect((error as Error).message).toContain("missing.creds");
  });
});
