import { status as Status, type Metadata } from "@grpc/grpc-js";
import type { ApplicationStatusReport } from "@tsserve/protocol";
import { checkMultiplexedModelId, MULTIPLEXED_MODEL_ID_METADATA } from "@tsserve/protocol/internal";
import { GrpcCallError } from "./grpc-status.js";

/** Metadata key naming the target application (as in Ray Serve). */
export const APPLICATION_KEY = "application";
/** Metadata key carrying the session id; routes like a handle's `sessionId`. */
export const SESSION_ID_KEY = "session_id";
/** Longest accepted metadata value of those two keys. */
export const MAX_METADATA_VALUE_CHARS = 1024;

/** Where one gRPC call goes. */
export interface GrpcTarget {
  app: string;
  ingress: string;
  sessionId: string | null;
  /** Metadata `multiplexed_model_id` (Ray's key), checked; undefined when absent. */
  multiplexedModelId?: string | undefined;
}

/** A checked model id from metadata; a bad one is INVALID_ARGUMENT naming the key and the rule. */
function modelIdOf(v: string | null): string | undefined {
  if (v === null) return undefined;
  try {
    return checkMultiplexedModelId(v, `metadata "${MULTIPLEXED_MODEL_ID_METADATA}"`);
  } catch (e) {
    throw new GrpcCallError(Status.INVALID_ARGUMENT, (e as Error).message);
  }
}

/** One text value of `key`, or null when absent; several values or a binary value are bad metadata. */
function single(metadata: Metadata, key: string): string | null {
  const values = metadata.get(key);
  if (values.length === 0) return null;
  if (values.length > 1) {
    throw new GrpcCallError(
      Status.INVALID_ARGUMENT,
      `metadata "${key}" was sent ${values.length} times; send it once`,
    );
  }
  const v = values[0];
  if (typeof v !== "string") {
    throw new GrpcCallError(Status.INVALID_ARGUMENT, `metadata "${key}" must be text, not binary`);
  }
  const t = v.trim();
  // Empty means absent, as for the HTTP session header (and HTTP/2 may drop empty values anyway).
  if (t.length === 0) return null;
  if (t.length > MAX_METADATA_VALUE_CHARS) {
    throw new GrpcCallError(
      Status.INVALID_ARGUMENT,
      `metadata "${key}" is longer than ${MAX_METADATA_VALUE_CHARS} characters`,
    );
  }
  return t;
}

/**
 * The call's session id for log lines: the first text `session_id` value, or null. Never throws,
 * so calls refused for bad metadata can still be logged; {@link GrpcApplications.resolve} is what
 * checks it.
 */
export function loggedSessionId(metadata: Metadata): string | null {
  const v = metadata.get(SESSION_ID_KEY)[0];
  const t = typeof v === "string" ? v.trim() : "";
  return t.length === 0 ? null : t;
}

/**
 * Applications and their ingress deployments, from the proxy's `ctl.status` polls. Unlike the
 * HTTP route table it lists every application, also those without a route prefix.
 */
export class GrpcApplications {
  private ingressByApp = new Map<string, string>();

  /** Replaces the table from a status report's applications. */
  update(apps: readonly ApplicationStatusReport[]): void {
    const next = new Map<string, string>();
    for (const a of apps) next.set(a.name, a.ingress);
    this.ingressByApp = next;
  }

  /** Known application names, sorted. */
  names(): string[] {
    return [...this.ingressByApp.keys()].sort();
  }

  /**
   * Reads `application` and `session_id` from the call's metadata. `application` may be left out
   * only when exactly one application is deployed (as in Ray Serve).
   */
  resolve(metadata: Metadata): GrpcTarget {
    if (metadata.get(`${SESSION_ID_KEY}-bin`).length > 0) {
      // A binary session id would be silently ignored: say so instead of routing without a session.
      throw new GrpcCallError(
        Status.INVALID_ARGUMENT,
        `metadata "${SESSION_ID_KEY}-bin" is not read; send the session id as text metadata "${SESSION_ID_KEY}"`,
      );
    }
    const sessionId = single(metadata, SESSION_ID_KEY);
    const model = modelIdOf(single(metadata, MULTIPLEXED_MODEL_ID_METADATA));
    if (model !== undefined) return { ...this.resolveApp(metadata, sessionId), multiplexedModelId: model };
    return this.resolveApp(metadata, sessionId);
  }

  private resolveApp(metadata: Metadata, sessionId: string | null): GrpcTarget {
    const wanted = single(metadata, APPLICATION_KEY);
    if (wanted === null) {
      if (this.ingressByApp.size === 1) {
        const [app, ingress] = this.ingressByApp.entries().next().value as [string, string];
        return { app, ingress, sessionId };
      }
      throw new GrpcCallError(
        Status.NOT_FOUND,
        this.ingressByApp.size === 0
          ? "no application is deployed"
          : `metadata "application" is required when several applications are deployed; known applications: ${this.names().join(", ")}`,
      );
    }
    const ingress = this.ingressByApp.get(wanted);
    if (ingress === undefined) {
      const known = this.names();
      throw new GrpcCallError(
        Status.NOT_FOUND,
        `unknown application ${JSON.stringify(wanted)} (metadata "application"); known applications: ${known.length > 0 ? known.join(", ") : "none"}`,
      );
    }
    return { app: wanted, ingress, sessionId };
  }
}
