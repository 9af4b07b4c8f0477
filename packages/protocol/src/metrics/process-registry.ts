import { Registry } from "prom-client";

/**
 * The one prom-client registry of this process (replica, controller, proxy, or a user's client):
 * tsserve's own metrics, handle metrics and user metrics all land here, and the NATS metrics
 * responder answers with it. Kept on globalThis so duplicate package copies share it.
 */
const KEY = Symbol.for("tsserve.metrics.registry");

type WithRegistry = typeof globalThis & { [KEY]?: Registry };

/** This process's registry (created on first use). */
export function processRegistry(): Registry {
  const g = globalThis as WithRegistry;
  return (g[KEY] ??= new Registry());
}

/**
 * Labels on every sample of this process, so that one scrape of many processes stays unambiguous:
 * `component` (replica, controller, proxy, client) and `instance` (replica id, controller id, …).
 */
export function setProcessLabels(component: string, instance: string): void {
  processRegistry().setDefaultLabels({ component, instance });
}
