import { type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  encode,
  ReplyKind,
  type ControllerReply,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import { startNats, type NatsFixture, startReplica, type ReplicaFixture } from "@tsserve/test-utils";
import { APP, call, makeSpec, PREFIX } from "./helpers.js";

describe("composition: bound Applications become DeploymentHandles", () => {
  let nats: NatsFixture;
  let nc: NatsConnection;
  let echo: ReplicaFixture;
  let relay: ReplicaFixture;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    nc = nats.nc;
    const echoSpec = makeSpec(nats.url, "composed-app.ts", "Echo");
    // Stands in for the controller's `ctl.members` answer (a real protocol peer on real NATS).
    nc.subscribe(controllerSubject(PREFIX, CONTROLLER_OPS.members), {
      callback: (_err, msg) => {
        const q = decode(msg.data) as { app: string; deployment: string };
        const reply: ControllerReply<MembershipSnapshot> =
          q.app === APP && q.deployment === "Echo"
            ? {
                ok: true,
                value: {
                  app: APP,
                  deployment: "Echo",
                  version: Date.now(),
                  replicas: [{ replicaId: echoSpec.replicaId, nodeId: echoSpec.nodeId }],
                  config: {
                    maxOngoingRequests: echoSpec.config.maxOngoingRequests,
                    maxQueuedRequests: -1,
                    requestRouter: echoSpec.config.requestRouter,
                  },
                },
              }
            : {
                ok: false,
                error: {
                  name: "DeploymentNotFoundError",
                  code: "DEPLOYMENT_NOT_FOUND",
                  message: "no",
                  retryable: false,
                },
              };
        msg.respond(encode(reply));
      },
    });
    echo = await startReplica(echoSpec, { nc });
    relay = await startReplica(makeSpec(nats.url, "composed-app.ts", "Relay"), { nc });
  });
  afterAll(async () => {
    await relay?.[Symbol.asyncDispose]();
    await echo?.[Symbol.asyncDispose]();
    await nats?.stop();
  });

  it("calls the downstream deployment through handles made from top-level and nested args", async () => {
    const r = await call(nc, relay.requestSubject, "relay", [40], { sessionId: "s-9" });
    expect(r.kind).toBe(ReplyKind.OK);
    expect((r as { value: unknown }).value).toEqual({
      viaArg: 41,
      viaObject: 42,
      label: "L",
      session: "s-9",
    });
  });

  it("drains a replica that holds handles and exits 0", async () => {
    relay.child.kill("SIGTERM");
    expect(await relay.exited).toBe(0);
    expect(relay.stderr()).not.toContain("shutdown step failed");
  });
});
