import type { NatsConnection } from "nats";
import { TsserveError } from "@tsserve/protocol";
import { isApplication, type Application } from "./deployment.js";
import { isPlainObject } from "./application-graph.js";

/** The part of `@tsserve/handle`'s Client that composition needs. */
interface HandleClient {
  getDeploymentHandle(deploymentName: string, options: { app: string }): unknown;
  close?(): Promise<void>;
}
interface HandleModule {
  Client?: {
    fromConnection?: (nc: NatsConnection, options: { prefix: string; metrics?: unknown }) => HandleClient;
  };
  promHandleMetricsSink?: () => unknown;
}

/** Where the handles of one replica come from: one Client on the replica's own connection. */
export interface HandleSource {
  /** Loads `@tsserve/handle` and creates the Client; called once before the first `handle()`. */
  init(): Promise<void>;
  /** A DeploymentHandle to `deploymentName` in this replica's application. */
  handle(deploymentName: string): unknown;
  /** Stops the Client's timers and subscriptions (the borrowed connection stays open). */
  close(): Promise<void>;
}

/**
 * Creates the handle factory lazily: `@tsserve/handle` is imported only when a deployment's
 * arguments hold Applications, so replicas without composition never load the router code.
 */
export function handleSource(nc: NatsConnection, prefix: string, app: string): HandleSource {
  let client: HandleClient | undefined;
  return {
    async init() {
      if (client !== undefined) return;
      const mod = (await import("@tsserve/handle")) as HandleModule;
      const from = mod.Client?.fromConnection;
      if (typeof from !== "function") {
        throw new TsserveError(
          "INTERNAL",
          "composition needs Client.fromConnection(nc, { prefix }) from @tsserve/handle, which this build does not export",
        );
      }
      // A replica's handles feed its process registry: the head's scrape collects them.
      const metrics = mod.promHandleMetricsSink?.();
      client = from.call(mod.Client, nc, { prefix, ...(metrics === undefined ? {} : { metrics }) });
    },
    handle(deploymentName) {
      if (client === undefined) throw new TsserveError("INTERNAL", "handle source used before init()");
      return client.getDeploymentHandle(deploymentName, { app });
    },
    async close() {
      await client?.close?.();
    },
  };
}

function hasApplications(args: readonly unknown[]): boolean {
  for (const arg of args) {
    if (isApplication(arg)) return true;
    if (Array.isArray(arg) && arg.some(isApplication)) return true;
    if (isPlainObject(arg) && Object.values(arg).some(isApplication)) return true;
  }
  return false;
}

/**
 * Returns the constructor arguments with every bound Application (top level, or inside an array or
 * plain object one level deep) replaced by a DeploymentHandle of the same application. Arguments
 * without Applications are returned as they are, and the handle package is then never loaded.
 */
export async function resolveArgs(args: readonly unknown[], source: HandleSource): Promise<unknown[]> {
  if (!hasApplications(args)) return [...args];
  await source.init();
  const swap = (v: unknown): unknown =>
    isApplication(v) ? source.handle((v as Application).deployment.name) : v;
  return args.map((arg) => {
    if (isApplication(arg)) return swap(arg);
    if (Array.isArray(arg)) return arg.map(swap);
    if (isPlainObject(arg)) return Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, swap(v)]));
    return arg;
  });
}
