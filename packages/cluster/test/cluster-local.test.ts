import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UnavailableError } from "@tsserve/protocol";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { pidAlive } from "../src/pid-utils.js";
import { startLocalCluster } from "../src/index.js";
import { echoApplication } from "./fixtures/echo-application.js";
import { logTails } from "./helpers/log-tails.js";

describe("startLocalCluster", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "tsserve-cluster-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("runs nats, a controller and two agents, survives a controller restart, and stops them all", async () => {
    const cluster = await startLocalCluster({
      stateDir,
      natsPort: await freePort(),
      agents: 2,
      logs: "file",
    });
    const pids = cluster.pids;
    try {
      expect(pids.agents).toHaveLength(2);
      const head = JSON.parse(readFileSync(join(stateDir, "head.json"), "utf8")) as { address: string };
      expect(head.address).toBe(cluster.address);
      const status = await cluster.client.status();
      expect(status.nodes.map((n) => n.nodeId).sort()).toEqual([...cluster.nodeIds].sort());

      await cluster.client.deploy({ applications: [echoApplication("echo", { numReplicas: 2 })] });
      const members = await waitUntil(
        async () => {
          const m = await cluster.client.members("echo", "Echo").catch(() => undefined);
          return m && m.replicas.length === 2 ? m : undefined;
        },
        { timeoutMs: 30_000, message: "2 RUNNING replicas" },
      );

      await cluster.killController();
      expect(pidAlive(pids.controller)).toBe(false);
      await expect(cluster.client.status()).rejects.toBeInstanceOf(UnavailableError);

      await cluster.restartController();
      expect(cluster.pids.controller).not.toBe(pids.controller);
      // The new controller adopts the live replicas instead of starting new ones.
      const after = await waitUntil(
        async () => {
          const m = await cluster.client.members("echo", "Echo").catch(() => undefined);
          return m && m.replicas.length === 2 ? m : undefined;
        },
        { timeoutMs: 30_000, message: "replicas adopted after restart" },
      );
      // On failure, the controllers' log tails say why a replica was not adopted (a rare flake
      // under the full suite's load, not yet explained).
      expect(after.replicas.map((r) => r.replicaId).sort(), logTails(stateDir)).toEqual(
        members.replicas.map((r) => r.replicaId).sort(),
      );
      expect(after.version).toBeGreaterThan(members.version);
    } finally {
      await cluster.stop();
    }
    const all = [cluster.pids.controller, ...pids.agents, pids.nats ?? -1];
    expect(all.filter((pid) => pidAlive(pid))).toEqual([]);
  });

  it("fails with the controller's exit when it cannot start", async () => {
    const err = await startLocalCluster({
      stateDir,
      natsPort: await freePort(),
      logs: "ignore",
      controllerArgs: ["--no-such-flag"],
      startTimeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(
      /controller failed to start: controller \(pid \d+\) exited with code 2/,
    );
  });
});
