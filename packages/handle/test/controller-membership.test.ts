import { type NatsConnection, type Subscription } from "nats";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  DEFAULT_ROUTER_CLASS,
  encode,
  errorToWire,
  membersSubject,
  type ControllerReply,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import {
  isConfigError,
  isDeploymentNotFoundError,
  isRequestTimeoutError,
  DeploymentNotFoundError,
  type ReplicaInfo,
  type RequestRouterConfig,
} from "@tsserve/protocol";
import { startNats, type NatsFixture } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Client } from "../src/index.js";
import type { Echo } from "./fixtures/echo-app.js";
import { FIXTURES, startReplicas, type ReplicaGroup } from "./helpers/replicas.js";
import { errorOf } from "./helpers/error-of.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A stand-in for the controller's `ctl.members` endpoint and `members.*` broadcasts, on the real
 * server: the controller package is tested on its own; here only the agreement is exercised.
 */
class StandInController {
  readonly snapshots = new Map<string, MembershipSnapshot>();
  lookups = 0;
  private sub: Subscription | null = null;
  constructor(private readonly nc: NatsConnection) {}

  start(): void {
    this.sub = this.nc.subscribe(controllerSubject("tsserve", CONTROLLER_OPS.members), {
      callback: (_e, msg) => {
        this.lookups++;
        const { app, deployment } = decode(msg.data) as { app: string; deployment: string };
        const snap = this.snapshots.get(`${app}/${deployment}`);
        const reply: ControllerReply<MembershipSnapshot> = snap
          ? { ok: true, value: snap }
          : {
              ok: false,
              error: errorToWire(
                new DeploymentNotFoundError(`no deployment ${deployment} in application ${app}`),
              ),
            };
        msg.respond(encode(reply));
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  set(
    version: number,
    replicas: ReplicaInfo[],
    requestRouter?: RequestRouterConfig,
    broadcast = false,
  ): void {
    const snap: MembershipSnapshot = {
      app: "app",
      deployment: "Echo",
      version,
      replicas,
      config: {
        maxOngoingRequests: 5,
        maxQueuedRequests: -1,
        requestRouter: {
          class: DEFAULT_ROUTER_CLASS,
          kwargs: {},
          ...requestRouter,
        } as Required<RequestRouterConfig>,
      },
    };
    this.snapshots.set("app/Echo", snap);
    if (broadcast) this.nc.publish(membersSubject("tsserve", "app", "Echo"), encode(snap));
  }
}

describe("controller-backed membership (stand-in controller on a real nats-server)", () => {
  let nats: NatsFixture;
  let replicas: ReplicaGroup;
  let nc: NatsConnection;
  let controller: StandInController;
  const clients: Client[] = [];
  const newClient = async (): Promise<Client> => {
    const c = await connect({ address: nats.url, cwd: FIXTURES });
    clients.push(c);
    return c;
  };
  const pidOf = (id: string) => replicas.get(id).child.pid;

  beforeAll(async () => {
    nats = await startNats({ jetstream: false });
    replicas = await startReplicas({ url: nats.url, ids: ["r1", "r2"] });
    nc = nats.nc;
    controller = new StandInController(nc);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await replicas?.stop();
    await nats?.stop();
  });

  it("fails a call to an unknown deployment with DeploymentNotFoundError naming app and deployment", async () => {
    controller.start();
    const client = await newClient();
    const error = await errorOf(client.getDeploymentHandle("Nope", { app: "ghost" }).remote());
    expect(isDeploymentNotFoundError(error)).toBe(true);
    expect((error as Error).message).toContain('"Nope"');
    expect((error as Error).message).toContain('"ghost"');
    controller.stop();
  });

  it("waits for a controller that is down, then routes on its set and follows newer broadcasts only", async () => {
    const client = await newClient();
    const h = client.getDeploymentHandle<Echo>("Echo", { app: "app" });
    const first = h.options({ timeoutMs: 10_000 }).pid.remote();
    await sleep(400); // the lookup is being retried with backoff
    controller.set(10, [replicas.infos[0]!]);
    controller.start();
    expect(await first).toBe(pidOf("r1"));

    controller.set(11, [replicas.infos[1]!], undefined, true);
    await sleep(100);
    for (let i = 0; i < 5; i++) expect(await h.pid.remote()).toBe(pidOf("r2"));

    controller.set(9, [replicas.infos[0]!], undefined, true); // older: ignored
    await sleep(100);
    for (let i = 0; i < 5; i++) expect(await h.pid.remote()).toBe(pidOf("r2"));

    controller.stop(); // controller down: the last set stays in force
    expect(await h.pid.remote()).toBe(pidOf("r2"));
  });

  it("bounds the wait for an absent controller by the call's timeout", async () => {
    controller.snapshots.clear();
    const client = await newClient();
    const error = await errorOf(
      client.getDeploymentHandle("Echo", { app: "app" }).options({ timeoutMs: 300 }).remote(),
    );
    expect(isRequestTimeoutError(error)).toBe(true);
  });

  it("uses the router the snapshot's config names, by module path, and fails with the ConfigError of a bad one", async () => {
    controller.set(20, replicas.infos, {
      class: "./routers/first-router.ts#FirstRouter",
      kwargs: { prefer: "r2" },
    });
    controller.start();
    const client = await newClient();
    const h = client.getDeploymentHandle<Echo>("Echo", { app: "app" });
    for (let i = 0; i < 5; i++) expect(await h.pid.remote()).toBe(pidOf("r2"));

    controller.set(21, replicas.infos, { class: "NoSuchRouter", kwargs: {} }, true);
    await sleep(100);
    const error = await errorOf(h.pid.remote());
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('"NoSuchRouter"');
    controller.stop();
  });
});
