import { setTimeout as sleep } from "node:timers/promises";
import type { NatsConnection } from "nats";
import { waitUntil } from "@tsserve/test-utils";
import { encode, type MembershipSnapshot } from "@tsserve/protocol/internal";
import type { CpuByGroup, PidGroups } from "./proc-cpu.js";
import { startPreciseCpuWindow } from "./proc-schedstat.js";

/** Options of {@link timedBurst}. */
export interface BurstOptions {
  nc: NatsConnection;
  /** The deployment's members subject. */
  subject: string;
  /** Encoded snapshots, published in order `gapMs` apart (as a controller's broadcasts would come). */
  sets: readonly Uint8Array[];
  gapMs: number;
  /** Sets delivered to listeners so far, over every handle. */
  updates: () => Promise<number>;
  /** How many more deliveries mark the end (changed sets × handles). */
  expect: number;
  groups: PidGroups;
}

/**
 * Publishes a burst of membership snapshots and returns the CPU each group used until every
 * handle took the changed ones: NATS delivers one publisher's messages in order, so once the
 * last changed set arrived, every set before it was handled.
 */
export async function timedBurst(o: BurstOptions): Promise<CpuByGroup> {
  const from = await o.updates();
  const window = startPreciseCpuWindow(o.groups);
  for (const s of o.sets) {
    o.nc.publish(o.subject, s);
    await sleep(o.gapMs);
  }
  await waitUntil(async () => (await o.updates()) >= from + o.expect, {
    timeoutMs: 60_000,
    intervalMs: 20,
    message: `handles taking ${o.expect} more sets`,
  });
  return window.stop();
}

/**
 * `n` newer versions of `base` (n even), alternately one replica less and the full set again, so
 * every one is a real change (a handle rebuilds its replica set and ring) and the last is `base`'s
 * set. Versions continue from `base.version`; returns the last one used.
 */
export function changedSets(base: MembershipSnapshot, n: number): { sets: Uint8Array[]; version: number } {
  let version = base.version;
  const sets = Array.from({ length: n }, (_, i) =>
    encode({
      ...base,
      version: ++version,
      replicas: i % 2 === 0 ? base.replicas.slice(0, -1) : base.replicas,
    }),
  );
  return { sets, version };
}
