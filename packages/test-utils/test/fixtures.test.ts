import { fileURLToPath } from "node:url";
import { decodeReply, encodeRequest, ReplyKind } from "@tsserve/protocol/internal";
import { describe, expect, it } from "vitest";
import { processAlive, startNats, startReplica, startReplicas, type NatsFixture } from "../src/index.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

async function echo(nats: NatsFixture, subject: string, input: unknown): Promise<unknown> {
  const body = encodeRequest({
    requestId: "t1",
    method: "__call__",
    args: [input],
    sessionId: null,
    stream: false,
  });
  const reply = decodeReply((await nats.nc.request(subject, body, { timeout: 5000 })).data);
  expect(reply.kind).toBe(ReplyKind.OK);
  return (reply as { value: unknown }).value;
}

describe("test fixtures (await using)", () => {
  it("startNats: a server and a connection, both gone when the block ends", async () => {
    let pid = 0;
    let nats: NatsFixture | undefined;
    {
      await using n = await startNats({ jetstream: false });
      nats = n;
      pid = n.server.pid;
      const extra = await n.connect();
      expect(processAlive(pid)).toBe(true);
      expect(n.nc.isClosed()).toBe(false);
      expect(extra.isClosed()).toBe(false);
    }
    expect(nats.nc.isClosed()).toBe(true);
    expect(processAlive(pid)).toBe(false);
  });

  it("startReplica: a RUNNING replica that answers, killed by PID when the block ends", async () => {
    await using nats = await startNats({ jetstream: false });
    let pid = 0;
    {
      await using replica = await startReplica(
        { url: nats.url, cwd: FIXTURES, importPath: "echo-app.ts#app" },
        { nc: nats.nc },
      );
      pid = replica.child.pid!;
      expect(await echo(nats, replica.requestSubject, "hi")).toEqual({ echo: "hi", pid });
    }
    expect(processAlive(pid)).toBe(false);
  });

  it("startReplica: a replica that fails to start rejects at once with its stderr", async () => {
    await using nats = await startNats({ jetstream: false });
    const before = Date.now();
    const err = await startReplica({ url: nats.url, cwd: FIXTURES, importPath: "echo-app.ts#missing" }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/FAILED[\s\S]*replica stderr:/);
    expect((err as Error).message).toContain("missing");
    expect(Date.now() - before).toBeLessThan(15_000); // FAILED ends the wait early, not the timeout
  });

  it("startReplicas: one process per id, infos for membership, kill one, stop the rest", async () => {
    await using nats = await startNats({ jetstream: false });
    const group = await startReplicas({
      url: nats.url,
      cwd: FIXTURES,
      importPath: "echo-app.ts#app",
      ids: ["a", "b"],
    });
    const pids = group.replicas.map((r) => r.child.pid!);
    expect(group.infos).toEqual([
      { replicaId: "a", nodeId: "node-1" },
      { replicaId: "b", nodeId: "node-1" },
    ]);
    await group.kill("a");
    expect(processAlive(pids[0]!)).toBe(false);
    expect(processAlive(pids[1]!)).toBe(true);
    await group[Symbol.asyncDispose]();
    expect(processAlive(pids[1]!)).toBe(false);
  });
});
