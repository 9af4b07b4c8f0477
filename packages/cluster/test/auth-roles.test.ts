// Issue 11, finding 5: with the credentials any client needs, forged heartbeats and membership
// hijacked calls, and agent/controller commands ran. With `tsserve nats-config` users, NATS itself
// refuses every control-plane action of a client, calls work under the client's private inbox
// prefix, and replica code sees only the replica role's credentials.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as natsConnect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectClient, type Client } from "@tsserve/handle";
import { ControllerClient } from "@tsserve/controller";
import { decode, encode, NATS_AUTH_ENV } from "@tsserve/protocol/internal";
import { sleep, startNatsServer, waitUntil, type NatsServer } from "@tsserve/test-utils";
import { agentEntryPath, controllerEntry } from "../src/entry-paths.js";
import { spawnNodeProcess, type ManagedProcess } from "../src/managed-process.js";
import { writeNatsRoles, type NatsRoleFiles } from "../src/nats-roles.js";
import { FIXTURES, PREFIX, deployRequest } from "./helpers/controller-harness.js";
import { worldReadableView, type WorldReadableView } from "./helpers/world-readable-view.js";

function readEnv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function natsOptions(env: Record<string, string>): { user: string; pass: string; inboxPrefix: string } {
  return {
    user: env[NATS_AUTH_ENV.user]!,
    pass: env[NATS_AUTH_ENV.password]!,
    inboxPrefix: env[NATS_AUTH_ENV.inboxPrefix]!,
  };
}

describe("NATS users per role (tsserve nats-config)", () => {
  let dir: string;
  let files: NatsRoleFiles;
  let nats: NatsServer;
  const procs: ManagedProcess[] = [];
  let admin: NatsConnection;
  let ctl: ControllerClient;
  let client: Client;
  let view: WorldReadableView | undefined;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("this test runs replicas as user nobody and must run as root (CI does)");
    dir = mkdtempSync(join(tmpdir(), "tsserve-roles-"));
    // The agent and the app run from a view every user can read: a clone in a 0700 folder
    // (as /root is) would otherwise keep `nobody` from reading the code (see the EACCES case).
    view = worldReadableView();
    files = writeNatsRoles(join(dir, "auth"), { prefix: PREFIX });
    nats = await startNatsServer({ extraConfig: readFileSync(files.config, "utf8") });
    const common = { logs: "file" as const, logDir: join(dir, "logs"), exitWithParent: true };
    const args = ["--address", nats.url, "--prefix", PREFIX];
    procs.push(
      spawnNodeProcess({
        ...common,
        name: "controller",
        entry: controllerEntry(),
        args,
        env: readEnv(files.envFiles["controller"]!),
      }),
      spawnNodeProcess({
        ...common,
        name: "agent",
        entry: view.map(agentEntryPath()),
        args: [...args, "--node-id", "n1", "--replica-user", "nobody"],
        env: readEnv(files.envFiles["agent"]!),
      }),
    );
    admin = await natsConnect({ servers: nats.url, ...natsOptions(readEnv(files.envFiles["admin"]!)) });
    ctl = new ControllerClient(admin, { prefix: PREFIX });
    await waitUntil(
      async () => (await ctl.status().catch(() => undefined))?.nodes.some((n) => n.nodeId === "n1"),
      { timeoutMs: 30_000, message: "controller answering the admin with agent n1 listed" },
    );
    const snoop = deployRequest("snoop", "snoop", { numReplicas: 1 });
    snoop.applications[0]!.cwd = view.map(FIXTURES);
    await ctl.deploy(snoop);
    client = await connectClient({
      address: nats.url,
      prefix: PREFIX,
      natsOptions: natsOptions(readEnv(files.envFiles["client"]!)),
    });
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await ctl?.shutdown().catch(() => undefined);
    await Promise.all(procs.map((p) => p.stop(15_000)));
    await admin?.close();
    await nats?.stop();
    view?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("lets a client call under its private inbox prefix, and replicas see only the replica role", async () => {
    const handle = client.getDeploymentHandle("Snoop", { app: "snoop" });
    const agentEnv = readEnv(files.envFiles["agent"]!);
    const controllerEnv = readEnv(files.envFiles["controller"]!);
    const seen = (await handle
      .options({ timeoutMs: 30_000 })
      .remote([files.envFiles["agent"], files.envFiles["controller"], files.config])) as {
      uid: number;
      natsEnv: Record<string, string>;
      allEnvValues: string[];
      parentEnviron: string;
      files: Record<string, string>;
    };
    expect(seen.uid).toBe(65534);
    // Its own user is the replica role's, from agent.env's TSSERVE_REPLICA_NATS_* lines.
    expect(seen.natsEnv[NATS_AUTH_ENV.user]).toBe(agentEnv["TSSERVE_REPLICA_NATS_USER"]);
    const secrets = [agentEnv[NATS_AUTH_ENV.password]!, controllerEnv[NATS_AUTH_ENV.password]!];
    for (const secret of secrets) {
      expect(seen.allEnvValues.some((v) => v.includes(secret))).toBe(false);
      expect(seen.parentEnviron.includes(secret)).toBe(false);
      for (const text of Object.values(seen.files)) expect(text.includes(secret)).toBe(false);
    }
    expect(seen.parentEnviron).toMatch(/^ERROR EACCES/);
    for (const text of Object.values(seen.files)) expect(text).toMatch(/^ERROR EACCES/);
  }, 60_000);

  it("refuses every control-plane action of a client: nothing it forges reaches anyone", async () => {
    const clientEnv = readEnv(files.envFiles["client"]!);
    const forger = await natsConnect({ servers: nats.url, ...natsOptions(clientEnv) });
    const errors: string[] = [];
    void (async () => {
      for await (const s of forger.status()) if (s.type === "error") errors.push(String(s.data));
    })();
    // The admin role sees everything under the prefix: a forged message that got through shows
    // here (the real agent's heartbeats on agent.n1.hb do too, so only forged bodies count).
    const delivered: string[] = [];
    const spy = admin.subscribe(`${PREFIX}.>`, {
      callback: (_e, m) => {
        const body = m.data.length > 0 ? (decode(m.data) as { forged?: unknown } | null) : null;
        if (body?.forged === true) delivered.push(m.subject);
      },
    });
    await admin.flush();
    const forged = [
      `${PREFIX}.ctl.deploy`,
      `${PREFIX}.ctl.delete`,
      `${PREFIX}.ctl.shutdown`,
      `${PREFIX}.ctl.status`,
      `${PREFIX}.agent.n1.start`,
      `${PREFIX}.agent.n1.stop`,
      `${PREFIX}.agent.n1.shutdown`,
      `${PREFIX}.agent.n1.hb`,
      `${PREFIX}.agent.n1.exit`,
      `${PREFIX}.hb.snoop.Snoop.Snoop-forged`,
      `${PREFIX}.members.snoop.Snoop`,
      `${PREFIX}.rctl.snoop.Snoop.Snoop-any`,
    ];
    const refused: string[] = [];
    for (const subject of forged) {
      forger.publish(subject, encode({ forged: true }));
      await forger
        .request(subject, encode({ forged: true }), { timeout: 1000 })
        .then(() => undefined)
        .catch((e: Error) => {
          if (/permission/i.test(e.message)) refused.push(subject);
        });
    }
    // Reading every client's replies is refused too.
    const snoop = forger.subscribe("_INBOX.>");
    const snoopDone = (async () => {
      try {
        for await (const m of snoop) void m;
        return "closed";
      } catch (e) {
        return (e as Error).message;
      }
    })();
    await forger.flush();
    await sleep(500);
    spy.unsubscribe();
    const forgedDelivered = delivered.filter((s) => forged.includes(s));
    console.log(
      `client role: ${refused.length}/${forged.length} control-plane requests refused by NATS, ` +
        `${forgedDelivered.length} forged messages delivered, ${errors.length} permission errors`,
    );
    expect(forgedDelivered).toEqual([]);
    expect(refused.sort()).toEqual([...forged].sort());
    expect(await Promise.race([snoopDone, sleep(2000).then(() => "still subscribed")])).toMatch(
      /permission/i,
    );
    // The cluster is untouched: one replica, the real one, and the client still calls it.
    const status = await ctl.status();
    const replicas = status.applications.flatMap((a) => a.deployments).flatMap((d) => d.replicas);
    expect(replicas.map((r) => r.replicaId)).toEqual([expect.stringMatching(/^Snoop-/)]);
    const handle = client.getDeploymentHandle("Snoop", { app: "snoop" });
    await expect(handle.options({ timeoutMs: 10_000 }).remote([])).resolves.toBeTruthy();
    await forger.close();
  }, 60_000);

  it("fails a start at once, with the reason, when the replica user cannot read the app", async () => {
    // A private folder (0700, root's): what a checkout in /root or a `mktemp -d` is to nobody.
    const privateDir = mkdtempSync(join(dir, "private-"));
    writeFileSync(join(privateDir, "app.ts"), "export const app = 1;\n");
    const req = deployRequest("hidden", "snoop", { numReplicas: 1 });
    req.applications[0]!.cwd = privateDir;
    req.applications[0]!.importPath = "app.ts#snoop";
    const started = Date.now();
    await ctl.deploy(req);
    let text = "";
    await waitUntil(
      async () => {
        text = JSON.stringify(await ctl.status());
        return text.includes("--replica-user nobody cannot read");
      },
      { timeoutMs: 15_000, message: "the deployment's failure naming the unreadable file" },
    );
    expect(text).toContain(`${join(privateDir, "app.ts")}: EACCES`);
    // At once: well inside the replica startup timeout the old failure waited out.
    expect(Date.now() - started).toBeLessThan(15_000);
    await ctl.delete("hidden");
  }, 60_000);
});
