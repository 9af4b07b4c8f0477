import { ErrorCode, NatsError, type NatsConnection } from "nats";
import { decode, decodeReply, isPlainObject, ReplyKind } from "@tsserve/protocol/internal";
import type { FuzzPayload } from "./fuzz-payloads.js";

/** How the body of a reply on a subject is read. */
export type ReplyFormat = "data-plane" | "controller";

/** What one fuzz send produced. */
export interface FuzzOutcome {
  subject: string;
  payload: string;
  /**
   * `reply:<KIND or error code>`, `no-responders`, `timeout` (nobody answered a request: the
   * sender was left waiting), `client:<code>` (the NATS client refused to send), `published`
   * (fire-and-forget subjects), or `reply:undecodable`.
   */
  outcome: string;
  ms: number;
}

const KIND_NAMES = new Map<number, string>(Object.entries(ReplyKind).map(([k, v]) => [v, k]));

/** Names a reply body: the data-plane kind (with the error code), or the controller reply's. */
export function describeReply(data: Uint8Array, format: ReplyFormat): string {
  try {
    if (format === "data-plane") {
      const r = decodeReply(data);
      const kind = KIND_NAMES.get(r.kind) ?? String(r.kind);
      return r.kind === ReplyKind.ERROR ? `${kind}:${String(r.error?.code)}` : kind;
    }
    const r = decode(data);
    if (!isPlainObject(r) || typeof r["ok"] !== "boolean") return "undecodable";
    if (r["ok"]) return "ok";
    const error = r["error"] as { code?: unknown } | undefined;
    return `error:${String(error?.code)}`;
  } catch {
    return "undecodable";
  }
}

/**
 * Sends each payload to `subject` as a request (when `format` is given) or a plain publish, and
 * records what came back. A request waits at most `timeoutMs`.
 */
export async function fuzzSubject(
  nc: NatsConnection,
  subject: string,
  payloads: readonly FuzzPayload[],
  format: ReplyFormat | null,
  timeoutMs = 1500,
): Promise<FuzzOutcome[]> {
  const out: FuzzOutcome[] = [];
  for (const p of payloads) {
    const started = Date.now();
    let outcome: string;
    if (format === null) {
      try {
        nc.publish(subject, p.bytes);
        outcome = "published";
      } catch (e) {
        outcome = `client:${String((e as { code?: unknown }).code ?? (e as Error).message)}`;
      }
    } else {
      try {
        const msg = await nc.request(subject, p.bytes, { timeout: timeoutMs });
        outcome = `reply:${describeReply(msg.data, format)}`;
      } catch (e) {
        if (e instanceof NatsError && e.code === ErrorCode.NoResponders) outcome = "no-responders";
        else if (e instanceof NatsError && e.code === ErrorCode.Timeout) outcome = "timeout";
        else outcome = `client:${String((e as { code?: unknown }).code ?? (e as Error).message)}`;
      }
    }
    out.push({ subject, payload: p.name, outcome, ms: Date.now() - started });
  }
  await nc.flush();
  return out;
}

/** Groups outcomes as `subject: outcome ×count (payload names…)`, one line per subject and outcome. */
export function summarizeOutcomes(outcomes: readonly FuzzOutcome[]): string[] {
  const groups = new Map<string, string[]>();
  for (const o of outcomes) {
    const key = `${o.subject} → ${o.outcome}`;
    const list = groups.get(key) ?? [];
    list.push(o.payload);
    groups.set(key, list);
  }
  return [...groups].map(([k, names]) => `${k} ×${names.length} (${names.join(", ")})`);
}
