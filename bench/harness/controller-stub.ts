import type { NatsConnection, Subscription } from "nats";
import {
  controllerSubject,
  decode,
  encode,
  type ControllerReply,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import { type ReplicaInfo, type StatusReport } from "@tsserve/protocol";

/** One application the stub reports: its ingress deployment and replicas. */
export interface StubApp {
  app: string;
  routePrefix: string | null;
  deployment: string;
  replicas: readonly ReplicaInfo[];
  maxOngoingRequests: number;
}

/**
 * Answers `ctl.status` and `ctl.members` for fixed applications, exactly as the controller's API
 * describes, so a proxy can route to replicas a suite started itself (no controller process, whose
 * CPU would blur the numbers; it is never on the request path anyway).
 */
export function controllerStub(nc: NatsConnection, prefix: string, apps: readonly StubApp[]): Subscription[] {
  const reply = <T>(value: T): Uint8Array => encode({ ok: true, value } satisfies ControllerReply<T>);
  const status: StatusReport = {
    applications: apps.map((a) => ({
      name: a.app,
      routePrefix: a.routePrefix,
      ingress: a.deployment,
      deployments: [
        {
          name: a.deployment,
          status: "HEALTHY",
          message: "",
          targetReplicas: a.replicas.length,
          replicas: a.replicas.map((r) => ({ ...r, state: "RUNNING", ongoing: 0, startedAt: 0, pid: 0 })),
        },
      ],
    })),
    nodes: [],
  };
  const statusSub = nc.subscribe(controllerSubject(prefix, "status"), {
    callback: (_e, m) => m.respond(reply(status)),
  });
  const membersSub = nc.subscribe(controllerSubject(prefix, "members"), {
    callback: (_e, m) => {
      const { app } = decode(m.data) as { app: string };
      const a = apps.find((x) => x.app === app);
      if (a === undefined) return;
      const snapshot: MembershipSnapshot = {
        app: a.app,
        deployment: a.deployment,
        version: 1,
        replicas: [...a.replicas],
        config: {
          maxOngoingRequests: a.maxOngoingRequests,
          maxQueuedRequests: -1,
          requestRouter: { class: "PowerOfTwoChoices", kwargs: {} },
        },
      };
      m.respond(reply(snapshot));
    },
  });
  return [statusSub, membersSub];
}
