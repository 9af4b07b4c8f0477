import { connect as netConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AGENT_OPS,
  CONTROLLER_OPS,
  agentSubject,
  controllerSubject,
  handleMetricsSubject,
  heartbeatSubject,
  membersSubject,
  probeSubject,
  requestSubject,
} from "@tsserve/protocol/internal";
import { isTsserveError } from "@tsserve/protocol";
import { startNatsServer, waitUntil, type NatsServer } from "@tsserve/test-utils";
import {
  TARGET,
  startChaosCluster,
  targetApplication,
  waitConverged,
  type ChaosCluster,
} from "../src/chaos-cluster.js";
import { pidAlive, replicaPids } from "../src/faults.js";
import { fuzzPayloads, type FuzzPayload } from "../src/fuzz-payloads.js";
import { fuzzSubject, summarizeOutcomes, type FuzzOutcome } from "../src/fuzzer.js";
import { formatTraffic, startTraffic } from "../src/traffic.js";

const APP = "fz";
const PREFIX = "fuzz";
const NODE = "fuzznode";
const MAX_PAYLOAD = 65_536;

// Bodies that can never decode to a message: safe for ops that act on any well-formed body
// (shutdown), where a "valid" variant would stop the cluster on purpose. Not 0xc1: msgpackr
// decodes that reserved byte to a value, and ctl.shutdown / agent.<node>.shutdown then accept it
// (reported as a bug: shutdown bodies are not checked for shape).
const UNDECODABLE = new Set([
  "truncated-valid",
  "array32-4G-declared",
  "str32-4G-declared",
  "bin32-4G-declared",
  "deep-nesting-20000",
]);

describe("fuzzing every subject tsserve listens on", () => {
  let server: NatsServer;
  let cc: ChaosCluster;
  let replicaIds: string[];
  let pidsBefore: number[];

  beforeAll(async () => {
    server = await startNatsServer({ extraConfig: `max_payload: ${MAX_PAYLOAD}` });
    cc = await startChaosCluster({ address: server.url, prefix: PREFIX, agents: 1, nodeIds: [NODE] });
    await cc.cluster.client.deploy({ applications: [targetApplication(APP, { numReplicas: 2 })] });
    replicaIds = await waitConverged(cc, APP, 2);
    const rp = await replicaPids(cc.cluster, APP);
    pidsBefore = [cc.cluster.pids.controller, ...cc.cluster.pids.agents, ...rp.values()];
  });
  afterAll(async () => {
    await cc?.stop();
    await server?.stop();
  });

  it("answers bad requests with clear errors, drops bad broadcasts, and nothing crashes or hangs", async () => {
    const nc = cc.client.nc;
    // Light traffic through the whole fuzz run: the data plane must keep working meanwhile.
    const traffic = startTraffic(cc.handle(APP), { sessions: 4, timeoutMs: 3000, pauseMs: 30 });
    const all: FuzzOutcome[] = [];
    const run = async (subject: string, valid: unknown, format: "data-plane" | "controller" | null) => {
      const payloads: FuzzPayload[] = fuzzPayloads(valid);
      all.push(...(await fuzzSubject(nc, subject, payloads, format)));
    };
    const hostile = (valid: unknown): FuzzPayload[] =>
      fuzzPayloads(valid).filter((p) => UNDECODABLE.has(p.name));

    for (const id of replicaIds) {
      await run(
        requestSubject(PREFIX, APP, TARGET, id),
        [1, "req-1", "__call__", [1], null, 0],
        "data-plane",
      );
      await run(probeSubject(PREFIX, APP, TARGET, id), {}, "data-plane");
      await run(heartbeatSubject(PREFIX, APP, TARGET, id), { replicaId: id, state: "RUNNING" }, null);
    }
    await run(
      controllerSubject(PREFIX, CONTROLLER_OPS.deploy),
      { applications: [targetApplication(APP, { numReplicas: 2 })] },
      "controller",
    );
    await run(controllerSubject(PREFIX, CONTROLLER_OPS.delete), { app: "no-such-app" }, "controller");
    await run(controllerSubject(PREFIX, CONTROLLER_OPS.status), {}, "controller");
    await run(
      controllerSubject(PREFIX, CONTROLLER_OPS.members),
      { app: APP, deployment: TARGET },
      "controller",
    );
    all.push(
      ...(await fuzzSubject(
        nc,
        controllerSubject(PREFIX, CONTROLLER_OPS.shutdown),
        hostile({}),
        "controller",
      )),
    );
    await run(controllerSubject(PREFIX, "frobnicate"), {}, "controller");
    await run(agentSubject(PREFIX, NODE, AGENT_OPS.start), { replicaId: "forged" }, "controller");
    await run(
      agentSubject(PREFIX, NODE, AGENT_OPS.stop),
      { replicaId: "no-such", graceful: true, timeoutMs: 100 },
      "controller",
    );
    all.push(
      ...(await fuzzSubject(nc, agentSubject(PREFIX, NODE, AGENT_OPS.shutdown), hostile({}), "controller")),
    );
    await run(agentSubject(PREFIX, NODE, "frobnicate"), {}, "controller");
    await run(agentSubject(PREFIX, NODE, AGENT_OPS.heartbeat), { nodeId: NODE, replicas: [] }, null);
    await run(agentSubject(PREFIX, NODE, AGENT_OPS.exit), { nodeId: NODE, replicaId: "x" }, null);
    await run(
      membersSubject(PREFIX, APP, TARGET),
      { app: APP, deployment: TARGET, version: 1, replicas: [] },
      null,
    );
    await run(handleMetricsSubject(PREFIX, APP, TARGET), { handleId: "h", queued: 1 }, null);
    await run(`${PREFIX}.frobnicate.${APP}`, {}, null);
    await run(
      requestSubject(PREFIX, APP, TARGET, "no-such-replica"),
      [1, "r", "__call__", [], null, 0],
      "data-plane",
    );

    // Forged replies into the handle's own reply inbox while its requests are in flight.
    const inbox = (cc.client as unknown as { transport: { inbox: string } }).transport.inbox;
    for (let i = 0; i < 3000; i++) nc.publish(`${inbox}.${i}`, fuzzPayloads(null)[i % 20]!.bytes);
    await nc.flush();

    // Over max_payload: the client refuses to send; through a handle it is a typed error.
    const big = new Uint8Array(MAX_PAYLOAD + 1000);
    all.push(
      ...(await fuzzSubject(
        nc,
        requestSubject(PREFIX, APP, TARGET, replicaIds[0]!),
        [{ name: "over-max-payload", bytes: big }],
        "data-plane",
      )),
    );
    all.push(
      ...(await fuzzSubject(
        nc,
        controllerSubject(PREFIX, CONTROLLER_OPS.deploy),
        [{ name: "over-max-payload", bytes: big }],
        "controller",
      )),
    );
    const viaHandle = await cc
      .handle(APP)
      .options({ method: "size", timeoutMs: 3000 })
      .remote("x".repeat(MAX_PAYLOAD + 1000))
      .then(
        () => "ok",
        (e: unknown) => (isTsserveError(e) ? `typed:${e.code}: ${e.message}` : `untyped: ${String(e)}`),
      );
    // A raw client that ignores the limit: the server itself refuses and closes that connection.
    const rawReply = await rawOversizedPublish(
      server.port,
      controllerSubject(PREFIX, CONTROLLER_OPS.status),
      MAX_PAYLOAD + 10,
    );

    const report = await traffic.stop();
    const summary = summarizeOutcomes(all);
    console.log(
      [
        "fuzz outcomes:",
        ...summary,
        `over max_payload through a handle: ${viaHandle}`,
        `over max_payload from a raw client: ${rawReply}`,
        `traffic during the fuzz: ${formatTraffic(report)}`,
      ].join("\n"),
    );

    // Senders that expect a reply always get one (or NATS no-responders): nobody is left waiting.
    expect(all.filter((o) => o.outcome === "timeout").map((o) => `${o.subject} ${o.payload}`)).toEqual([]);
    for (const o of all) {
      if (o.subject.includes(".req.") && !o.subject.endsWith("no-such-replica")) {
        if (o.payload === "over-max-payload") expect(o.outcome).toBe("client:MAX_PAYLOAD_EXCEEDED");
        else
          expect(["reply:ERROR:BAD_REQUEST", "reply:OK"], `${o.subject} ${o.payload}`).toContain(o.outcome);
      }
      if (o.subject.includes(".probe.")) expect(o.outcome, o.payload).toBe("reply:QUEUE_LEN");
      if (/\.ctl\.(deploy|delete|members|shutdown)$/.test(o.subject) && o.payload !== "over-max-payload") {
        expect(o.outcome, `${o.subject} ${o.payload}`).toMatch(
          /^reply:(ok|error:(BAD_REQUEST|INVALID_CONFIG|DEPLOYMENT_NOT_FOUND))$/,
        );
      }
      if (/\.agent\.[^.]+\.(start|stop|shutdown)$/.test(o.subject)) {
        expect(o.outcome, `${o.subject} ${o.payload}`).toMatch(
          /^reply:(ok|error:(BAD_REQUEST|INVALID_CONFIG))$/,
        );
      }
      if (o.subject.endsWith(".frobnicate") || o.subject.endsWith("no-such-replica")) {
        if (o.payload !== "over-max-payload" && !o.subject.includes(`${PREFIX}.frobnicate`))
          expect(o.outcome).toBe("no-responders");
      }
    }
    expect(viaHandle).toMatch(/^typed:PAYLOAD_TOO_LARGE/);
    expect(rawReply).toMatch(/Maximum Payload/i);

    // Traffic kept flowing; the forged inbox replies may fail calls, but only with typed errors.
    expect(report.ok).toBeGreaterThan(20);
    expect(report.untyped, report.examples.join("\n")).toBe(0);
    expect(report.hung, report.examples.join("\n")).toBe(0);
    expect(report.unaccounted).toBe(0);

    // Nothing crashed: same processes, same replicas, and a normal call works.
    for (const pid of pidsBefore) expect(pidAlive(pid), `pid ${pid}\n${cc.logs()}`).toBe(true);
    expect(await waitConverged(cc, APP, 2)).toEqual(replicaIds);
    const v = (await cc.handle(APP).options({ timeoutMs: 3000 }).remote("after")) as { input: unknown };
    expect(v.input).toBe("after");

    // The rejections are visible: the controller and replicas logged the dropped messages.
    const rejections = cc.grepLogs(/dropping|dropped|malformed|bad request/i);
    console.log(
      `log lines about rejected messages: ${rejections.length}; e.g.\n${rejections.slice(0, 5).join("\n")}`,
    );
    expect(rejections.length).toBeGreaterThan(0);

    // And counted: `tsserve status` shows how many malformed messages each component refused
    // (replicas report theirs on the next heartbeat, agents on theirs).
    const counts = await waitUntil(
      async () => {
        const st = await cc.cluster.client.status();
        const replicas = st.applications
          .flatMap((a) => a.deployments)
          .flatMap((d) => d.replicas)
          .reduce((n, r) => n + (r.rejectedMessages ?? 0), 0);
        const agent = st.nodes.find((n) => n.nodeId === NODE)?.rejectedMessages ?? 0;
        const controller = st.controller?.rejectedMessages ?? 0;
        return replicas > 0 && agent > 0 && controller > 0 ? { replicas, agent, controller } : null;
      },
      { timeoutMs: 5000, message: "rejection counters in ctl.status" },
    );
    console.log(`rejection counters: ${JSON.stringify(counts)}`);
    // Every bad body a replica answered with BAD_REQUEST was counted.
    const answeredBad = all.filter(
      (o) => o.subject.includes(".req.") && o.outcome === "reply:ERROR:BAD_REQUEST",
    ).length;
    expect(counts.replicas).toBeGreaterThanOrEqual(answeredBad);
  });
});

/**
 * Announces an oversized publish on a raw TCP connection and returns the server's -ERR line. Only
 * the PUB header is sent: the server checks the size there, and unread payload bytes would make
 * it reset the connection before its error reaches us.
 */
function rawOversizedPublish(port: number, subject: string, size: number): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    let sent = false;
    const socket = netConnect(port, "127.0.0.1");
    socket.on("data", (d: Buffer) => {
      got += d.toString();
      if (!sent && got.includes("\r\n")) {
        sent = true; // after the server's INFO
        socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nPUB ${subject} ${size}\r\n`);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () =>
      resolve(
        got
          .split("\r\n")
          .filter((l) => l.startsWith("-ERR"))
          .join(" ") || got,
      ),
    );
    setTimeout(() => socket.destroy(), 3000).unref();
  });
}
