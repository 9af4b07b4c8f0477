import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInbox, type NatsConnection } from "nats";
import {
  decodeReply,
  encodeCredit,
  encodeRequest,
  encodeStreamCancel,
  ReplyKind,
  type Reply,
  type ReplicaSpec,
  type StreamFlow,
} from "@tsserve/protocol/internal";
import { type DeploymentOptions } from "@tsserve/protocol";
import { replicaSpec, startReplica, type ReplicaFixture } from "@tsserve/test-utils";

// Replica processes start through @tsserve/test-utils' startReplica; this file holds what only
// the replica's own tests need: their spec defaults and raw-NATS calls to a replica.

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const PREFIX = "tst";
export const APP = "testapp";

/** A ReplicaSpec for a fixture; `options` are the deployment options the "agent" resolved. */
export function makeSpec(
  url: string,
  importPath: string,
  deployment: string,
  options: DeploymentOptions = {},
): ReplicaSpec {
  return replicaSpec({
    url,
    cwd: FIXTURES,
    importPath,
    prefix: PREFIX,
    app: APP,
    deployment,
    options: { gracefulShutdownWaitLoopS: 0.2, heartbeatPeriodS: 0.2, ...options },
  });
}

/** One unary request over raw NATS; returns the decoded reply. */
export async function call(
  nc: NatsConnection,
  subject: string,
  method: string,
  args: unknown[] = [],
  opts: { sessionId?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const body = encodeRequest({
    requestId: randomUUID(),
    method,
    args,
    sessionId: opts.sessionId ?? null,
    stream: false,
  });
  const msg = await nc.request(subject, body, { timeout: opts.timeoutMs ?? 5000 });
  return decodeReply(msg.data);
}

/** One streaming request: collects every reply until STREAM_END, ERROR or REJECTED. */
export async function callStream(
  nc: NatsConnection,
  subject: string,
  method: string,
  args: unknown[] = [],
): Promise<Reply[]> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { timeout: 5000 });
  nc.publish(
    subject,
    encodeRequest({ requestId: randomUUID(), method, args, sessionId: null, stream: true }),
    { reply: inbox },
  );
  const out: Reply[] = [];
  let chunks = 0;
  let bytes = 0;
  let flow: StreamFlow | undefined;
  for await (const m of sub) {
    const r = decodeReply(m.data);
    out.push(r);
    // Grant credit for every chunk at once: this helper reads everything.
    if (r.kind === ReplyKind.STREAM_START) flow = r.flow;
    if (r.kind === ReplyKind.CHUNK && flow !== undefined) {
      chunks++;
      bytes += m.data.length;
      nc.publish(flow.creditSubject, encodeCredit(chunks, bytes));
    }
    if (r.kind === ReplyKind.STREAM_END || r.kind === ReplyKind.ERROR || r.kind === ReplyKind.REJECTED) break;
  }
  sub.unsubscribe();
  return out;
}

/**
 * A streaming request that reads chunks as they come and grants credit only when told: for tests
 * of the replica's flow control. `grant()` publishes the cumulative credit of every chunk received.
 */
export function openStream(
  nc: NatsConnection,
  subject: string,
  method: string,
  args: unknown[] = [],
): {
  replies: Reply[];
  flow: () => StreamFlow | undefined;
  grant: () => void;
  cancel: () => void;
  close: () => void;
} {
  const inbox = createInbox();
  const replies: Reply[] = [];
  let chunks = 0;
  let bytes = 0;
  let flow: StreamFlow | undefined;
  const sub = nc.subscribe(inbox, {
    callback: (_err, m) => {
      const r = decodeReply(m.data);
      replies.push(r);
      if (r.kind === ReplyKind.STREAM_START) flow = r.flow;
      if (r.kind === ReplyKind.CHUNK) {
        chunks++;
        bytes += m.data.length;
      }
    },
  });
  nc.publish(
    subject,
    encodeRequest({ requestId: randomUUID(), method, args, sessionId: null, stream: true }),
    { reply: inbox },
  );
  return {
    replies,
    flow: () => flow,
    grant: () => nc.publish(flow!.creditSubject, encodeCredit(chunks, bytes)),
    cancel: () => nc.publish(flow!.creditSubject, encodeStreamCancel()),
    close: () => sub.unsubscribe(),
  };
}

/** The value of an OK reply; any other reply fails the test, showing it. */
export function okValue(r: Reply): any {
  if (r.kind !== ReplyKind.OK) throw new Error(`expected OK, got ${JSON.stringify(r)}`);
  return r.value;
}

/**
 * Two replicas, `<app>-a` and `<app>-b`, of session-app.ts's stateful Sessions deployment under
 * the app name `app` (so its own session bucket), with deployment `options`.
 */
export async function startSessionPair(
  url: string,
  nc: NatsConnection,
  app: string,
  options: DeploymentOptions,
): Promise<[ReplicaFixture, ReplicaFixture]> {
  const base = makeSpec(url, "session-app.ts#app", "Sessions", options);
  const spec = (id: string): ReplicaSpec => ({ ...base, app, replicaId: `${app}-${id}` });
  return Promise.all([startReplica(spec("a"), { nc }), startReplica(spec("b"), { nc })]);
}
