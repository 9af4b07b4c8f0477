import type { NatsConnection, Subscription } from "nats";
import {
  CONTROLLER_OPS,
  controllerSubject,
  decode,
  encode,
  errorFromWire,
  isPlainObject,
  membersSubject,
  type ControllerReply,
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

/**
 * Versions come from the controller's clock (`max(last + 1, Date.now())`); one further ahead than
 * this is forged or corrupt, and accepting it would pin the handle to that set forever, since
 * every genuine snapshot after it would look older.
 */
const MAX_VERSION_AHEAD_MS = 10 * 60_000;

/** A well-formed snapshot for this deployment (broadcasts are not trusted blindly). */
function isSnapshotOf(v: unknown, app: string, deployment: string): v is MembershipSnapshot {
  if (!isPlainObject(v) || v["app"] !== app || v["deployment"] !== deployment) return false;
  const version = v["version"];
  if (typeof version !== "number" || !Number.isSafeInteger(version)) return false;
  if (version > Date.now() + MAX_VERSION_AHEAD_MS) return false;
  const replicas = v["replicas"];
  return (
    Array.isArray(replicas) &&
    replicas.every(
      (r) => isPlainObject(r) && typeof r["replicaId"] === "string" && typeof r["nodeId"] === "string",
    ) &&
    isPlainObject(v["config"]) &&
    (v["retired"] === undefined || typeof v["retired"] === "boolean")
  );
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
    if (!isSnapshotOf(value, app, deployment)) return;
    const snap = value;
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
      const reply = decode(msg.data) as ControllerReply<MembershipSnapshot>;
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
