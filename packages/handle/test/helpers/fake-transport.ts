/**
 * A fake data plane for driving the routing loop without NATS (loop-level router tests).
 *
 * Fake replicas are just ids. Every probe and send is appended to `calls` (the call log tests
 * assert on). What a replica answers is set by the test:
 *
 * - probes: `setProbe(id, 3)` answers 3 from now on (and answers probes already waiting);
 *   `setProbe(id, NO_RESPONDERS)` says the replica is gone; `setProbe(id, undefined)` makes probes
 *   block again. A blocked probe resolves `null` when its deadline passes, like the real transport.
 * - sends: `setSend(id, fn)` decides each send at once: `fn(request)` returns a Reply, `null`
 *   (no responders) or `undefined` (keep it open). Without a rule, sends stay open. Open sends are
 *   listed by `openSends(id)`; the test answers them with `send.reply(reply)`.
 *
 * Replies are delivered on a microtask, like network replies arrive on a later tick.
 *
 * ```ts
 * const t = new FakeTransport();
 * t.setProbe("r1", 0);
 * t.setSend("r1", () => ok("hello", 0));
 * const d = fakeDeployment(t, ["r1"]);
 * expect(await d.call()).toBe("hello");
 * ```
 */
import {
  decodeRequest,
  ReplyKind,
  type Reply,
  type RequestMessage,
  type RoutingConfig,
} from "@tsserve/protocol/internal";
import { type ReplicaInfo } from "@tsserve/protocol";
import { DeploymentResponse } from "../../src/deployment-response.js";
import { DeploymentResponseStream } from "../../src/deployment-response-stream.js";
import { staticMembership, type StaticMembership } from "../../src/membership/static-membership.js";
import type { HandleMetricsSink } from "../../src/metrics-sink.js";
import {
  NO_RESPONDERS,
  type DeploymentTransport,
  type Exchange,
  type ProbeResult,
  type ReplyTarget,
} from "../../src/replica-transport.js";
import {
  DeploymentDispatcher,
  type DispatcherOptions,
  type SubmitOptions,
} from "../../src/dispatch/dispatcher.js";

export { NO_RESPONDERS };

/** One entry of the call log. */
export type FakeCall =
  | { type: "probe"; replicaId: string; deadlineMs: number }
  | { type: "send"; replicaId: string; request: RequestMessage };

/** A send the test has not answered yet. */
export interface FakeSend {
  readonly replicaId: string;
  readonly request: RequestMessage;
  /** True once the loop closed it (cancelled, timed out, answered terminally). */
  readonly closed: boolean;
  /** Delivers one reply (`null` = no responders). */
  reply(reply: Reply | null): void;
}

/** What a probe answers: a queue length, NO_RESPONDERS, or `null` (an explicit timeout). */
export type FakeProbeAnswer = number | typeof NO_RESPONDERS | null;

/** Reply builders. */
export const ok = (value: unknown, queueLen = 0): Reply => ({ kind: ReplyKind.OK, queueLen, value });
export const rejected = (queueLen: number): Reply => ({ kind: ReplyKind.REJECTED, queueLen });
export const streamStart = (queueLen = 1): Reply => ({ kind: ReplyKind.STREAM_START, queueLen });
export const chunk = (value: unknown, queueLen = 1): Reply => ({ kind: ReplyKind.CHUNK, queueLen, value });
export const streamEnd = (queueLen = 0): Reply => ({ kind: ReplyKind.STREAM_END, queueLen });
/** The replica acknowledges a call still running (sent a few ms after it arrived). */
export const accepted = (queueLen = 1): Reply => ({ kind: ReplyKind.ACCEPTED, queueLen });

/** A DeploymentTransport whose replicas answer what the test says. */
export class FakeTransport implements DeploymentTransport {
  /** Every probe and send, in order. */
  readonly calls: FakeCall[] = [];
  private readonly probeAnswers = new Map<string, FakeProbeAnswer>();
  private readonly blockedProbes = new Map<string, Set<(r: ProbeResult) => void>>();
  private readonly sendRules = new Map<string, (req: RequestMessage) => Reply | null | undefined>();
  private readonly open: FakeSendImpl[] = [];

  /** Sets (or with `undefined`, clears) the sticky probe answer of a replica; answers blocked probes. */
  setProbe(replicaId: string, answer: FakeProbeAnswer | undefined): void {
    if (answer === undefined) {
      this.probeAnswers.delete(replicaId);
      return;
    }
    this.probeAnswers.set(replicaId, answer);
    const blocked = this.blockedProbes.get(replicaId);
    if (blocked) {
      this.blockedProbes.delete(replicaId);
      for (const resolve of blocked) resolve(answer);
    }
  }

  /** Sets (or clears) the rule deciding each new send to a replica. */
  setSend(replicaId: string, rule: ((req: RequestMessage) => Reply | null | undefined) | undefined): void {
    if (rule === undefined) this.sendRules.delete(replicaId);
    else this.sendRules.set(replicaId, rule);
  }

  /** Sends still open, optionally only those to `replicaId`. */
  openSends(replicaId?: string): FakeSend[] {
    return this.open.filter((s) => !s.closed && (replicaId === undefined || s.replicaId === replicaId));
  }

  /** Number of probes (or sends) logged for a replica. */
  count(type: FakeCall["type"], replicaId?: string): number {
    return this.calls.filter((c) => c.type === type && (replicaId === undefined || c.replicaId === replicaId))
      .length;
  }

  probe(replicaId: string, deadlineMs: number): Promise<ProbeResult> {
    this.calls.push({ type: "probe", replicaId, deadlineMs });
    const answer = this.probeAnswers.get(replicaId);
    if (answer !== undefined) return Promise.resolve(answer);
    return new Promise<ProbeResult>((resolve) => {
      let set = this.blockedProbes.get(replicaId);
      if (!set) this.blockedProbes.set(replicaId, (set = new Set()));
      const done = (r: ProbeResult): void => {
        clearTimeout(timer);
        set.delete(done);
        resolve(r);
      };
      const timer = setTimeout(() => done(null), deadlineMs);
      set.add(done);
    });
  }

  send(replicaId: string, body: Uint8Array, target: ReplyTarget): Exchange {
    const request = decodeRequest(body);
    this.calls.push({ type: "send", replicaId, request });
    const s = new FakeSendImpl(replicaId, request, target);
    this.open.push(s);
    const rule = this.sendRules.get(replicaId);
    const reply = rule?.(request);
    if (reply !== undefined) s.reply(reply);
    return s;
  }
}

class FakeSendImpl implements FakeSend, Exchange {
  closed = false;
  constructor(
    readonly replicaId: string,
    readonly request: RequestMessage,
    private readonly target: ReplyTarget,
  ) {}
  reply(reply: Reply | null): void {
    queueMicrotask(() => {
      if (!this.closed) this.target.onReply(reply);
    });
  }
  close(): void {
    this.closed = true;
  }
}

/** A DeploymentDispatcher over a FakeTransport and a static membership, with a `call()` helper. */
export interface FakeDeployment {
  dispatcher: DeploymentDispatcher;
  membership: StaticMembership;
  /** Starts a unary call; options default to `__call__`, no session, no timeout. */
  call(args?: unknown[], options?: Partial<SubmitOptions>): DeploymentResponse<unknown>;
  /** Starts a streamed call. */
  stream(args?: unknown[], options?: Partial<SubmitOptions>): DeploymentResponseStream<unknown>;
}

/** Replica infos for ids (node "n1"). */
export const replicas = (...ids: string[]): ReplicaInfo[] =>
  ids.map((replicaId) => ({ replicaId, nodeId: "n1" }));

/** Builds a FakeDeployment; `config` defaults to maxOngoingRequests 10 (as in Ray's tests) and P2C. */
export function fakeDeployment(
  transport: FakeTransport,
  ids: string[],
  config: Partial<RoutingConfig> = {},
  extra: {
    metrics?: HandleMetricsSink;
    createRouter?: DispatcherOptions["createRouter"];
    now?: () => number;
  } = {},
): FakeDeployment {
  const membership = staticMembership({
    replicas: replicas(...ids),
    config: { maxOngoingRequests: 10, ...config },
  });
  const dispatcher = new DeploymentDispatcher({
    app: "app",
    deployment: "Dep",
    membership,
    transport,
    requestIdPrefix: "req-",
    metrics: extra.metrics,
    createRouter: extra.createRouter,
    now: extra.now,
  });
  const opts = (o: Partial<SubmitOptions>, stream: boolean): SubmitOptions => ({
    method: "__call__",
    sessionId: null,
    timeoutMs: 0,
    signal: undefined,
    ...o,
    stream,
  });
  return {
    dispatcher,
    membership,
    call(args = [], o = {}) {
      const r = new DeploymentResponse<unknown>();
      r.dispatcher = dispatcher;
      r.request = dispatcher.submit(args, opts(o, false), r);
      return r;
    },
    stream(args = [], o = {}) {
      const r = new DeploymentResponseStream<unknown>();
      r.dispatcher = dispatcher;
      r.request = dispatcher.submit(args, opts(o, true), r);
      return r;
    },
  };
}
