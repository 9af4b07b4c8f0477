import type { NatsConnection, Subscription } from "nats";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  decodeControllerReply,
  decodeMembershipSnapshot,
  encode,
  errorFromWire,
  membersSubject,
  type MembershipSnapshot,
} from "@tsserve/protocol/internal";
import { DeploymentNotFoundError } from "@tsserve/protocol";
import { MEMBERS_LOOKUP_TIMEOUT_MS } from "../options.js";
import type { MembershipListener, MembershipSource, MembershipUpdate } from "./membership-source.js";

/** Options of {@link controllerMembership}. */
export interface ControllerMembershipOptions {
  nc: NatsConnection;
  prefix: string;
  app: string;
  deployment: string;
  /** Deadline of one `ctl.members` request. @default 2000 */
  lookupTimeoutMs?: number;
}

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 2000;

/** A well-formed snapshot for this deployment (broadcasts are not trusted blindly), else null. */
function snapshotOf(v: unknown, app: string, deployment: string): MembershipSnapshot | null {
  try {
    const snap = decodeMembershipSnapshot(v);
    return snap.app === app && snap.deployment === deployment ? snap : null;
  } catch {
    return null;
  }
}

function updateOf(snap: MembershipSnapshot): MembershipUpdate {
  return snap.retired === true
    ? { replicas: snap.replicas, config: snap.config, retired: true }
    : { replicas: snap.replicas, config: snap.config };
}

/**
 * Membership from the controller (internals.md "Control plane"): ask `ctl.members` on first use,
 * then follow the `members.<app>.<deployment>` broadcasts, ignoring versions not above the one held.
 * The controller is never on the request path: while it is down the last set stays in force and a
 * missing first set is asked for again with backoff (requests bound the wait by their timeout).
 */
export function controllerMembership(options: ControllerMembershipOptions): MembershipSource {
  const { nc, prefix, app, deployment } = options;
  const lookupTimeoutMs = options.lookupTimeoutMs ?? MEMBERS_LOOKUP_TIMEOUT_MS;
  const listeners = new Set<MembershipListener>();
  let held: MembershipSnapshot | null = null;
  let sub: Subscription | null = null;
  let lookingUp = false;
  let retryTimer: NodeJS.Timeout | null = null;

  const accept = (value: unknown): void => {
    const snap = snapshotOf(value, app, deployment);
    if (snap === null) return;
    if (held !== null && snap.version <= held.version) return;
    held = snap;
    for (const l of listeners) l.onUpdate(updateOf(snap));
  };

  const lookup = async (attempt: number): Promise<void> => {
    if (listeners.size === 0 || held !== null) return;
    lookingUp = true;
    try {
      const msg = await nc.request(
        controllerSubject(prefix, CONTROLLER_OPS.members),
        encode({ app, deployment }),
        {
          timeout: lookupTimeoutMs,
        },
      );
      const reply = decodeControllerReply("ctl.members", decode(msg.data));
      lookingUp = false;
      if (reply.ok) {
        accept(reply.value);
        return;
      }
      const error = errorFromWire(reply.error);
      const reported =
        error.code === "DEPLOYMENT_NOT_FOUND"
          ? new DeploymentNotFoundError(
              `deployment ${JSON.stringify(deployment)} of application ${JSON.stringify(app)} not found: ${error.message}`,
              {
                cause: error,
                data: { app, deployment },
              },
            )
          : error;
      if (error.code === "DEPLOYMENT_NOT_FOUND" || !error.retryable) {
        for (const l of listeners) l.onError(reported);
        return;
      }
    } catch {
      // Controller down, slow, or not started yet: keep trying; broadcasts may also deliver the set.
    }
    lookingUp = false;
    if (listeners.size === 0 || held !== null || nc.isClosed()) return;
    const delay = Math.min(RETRY_INITIAL_MS * 2 ** Math.min(attempt, 16), RETRY_MAX_MS);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void lookup(attempt + 1);
    }, delay);
    retryTimer.unref();
  };

  const start = (): void => {
    sub = nc.subscribe(membersSubject(prefix, app, deployment), {
      callback: (err, msg) => {
        if (err) return;
        try {
          accept(decode(msg.data));
        } catch {
          // A malformed broadcast is ignored; the next re-publish (every 2 s) heals it.
        }
      },
    });
    void lookup(0);
  };

  const stop = (): void => {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    if (sub && !nc.isClosed()) sub.unsubscribe();
    sub = null;
    held = null;
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) start();
      else if (held !== null) listener.onUpdate(updateOf(held));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    refresh() {
      if (held === null && !lookingUp && retryTimer === null && listeners.size > 0) void lookup(0);
    },
  };
}
